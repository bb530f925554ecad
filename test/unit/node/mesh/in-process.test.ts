/**
 * Mesh behaviour over the in-process harness (test/helpers/mesh-harness.ts): several real nodes
 * (data dirs, Mesh, libp2p over 127.0.0.1) in this one process, so each case takes seconds:
 * sites converge on ops and blobs, a removed member is hung up on and refused by the gate, and a
 * node that was away catches up when it returns (a partition heals).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connectedTo, founder, ingest, join_, localStudies, opCount, removeMember, waitFor } from '../../../helpers/mesh-harness.ts'
import { build, e, requiredElements, smallImage } from '../helpers/dicom.ts'

function instance (n: number): Uint8Array {
  const uid = `1.2.826.0.1.3680043.10.9.${n}`
  const elements = [...requiredElements().filter((x) => x.tag !== 0x0008_0018), e(0x0008_0018, 'UI', uid), ...smallImage()]
  return build({ sopInstanceUid: uid, elements })
}

test('three sites converge on the log and on every blob, from whichever site ingested', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  const c = await join_(t, a, 'C')
  await waitFor('every site connected to the two others', () => connectedTo(a, b) && connectedTo(a, c) && connectedTo(b, c))
  assert.equal((await ingest(a, instance(1))).status, 'imported')
  assert.equal((await ingest(b, instance(2))).status, 'imported')
  await waitFor('the same log at the three sites', async () => {
    const counts = await Promise.all([a, b, c].map(opCount))
    return counts.every((n) => n === counts[0])
  })
  // Each site's ingest registers the study under its own study id: two studies, both held everywhere.
  await waitFor('both instances held locally at every site', () => [a, b, c].every((n) => localStudies(n) === 2 && n.mesh!.studies().reduce((sum, st) => sum + st.instances, 0) === 2 && n.mesh!.transfers()?.wanted === 0))
  for (const n of [a, b, c]) {
    const peers = n.mesh!.peers()
    assert.equal(peers.length, 2)
    for (const p of peers) assert.equal(p.refused, null, `${n.name} refused nothing from ${p.nodeId}`)
  }
})

test('a removed member is hung up on, and the gate refuses it when it dials again', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  await waitFor('A and B connected', () => connectedTo(a, b) && connectedTo(b, a))
  await removeMember(a, b)
  await waitFor('A hung up on B', () => !connectedTo(a, b) && a.mesh!.host.getConnections().length === 0)
  // B still believes it is a member and dials A at its bootstrap address: refused at the gater.
  await b.mesh!.host.dial(a.mesh!.host.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
  await waitFor('A refused B at the gater', () => a.mesh!.host.getConnections().length === 0)
  assert.equal(a.mesh!.peers().some((p) => p.nodeId === b.nodeId), false, 'B is no longer listed as a peer')
})

test('a partition heals: a site that was away gets the ops and blobs written meanwhile', async (t) => {
  const a = await founder(t, 'A')
  const b = await join_(t, a, 'B')
  await waitFor('A and B connected', () => connectedTo(a, b))
  await ingest(a, instance(10))
  await waitFor('B holds the first instance', () => localStudies(b) === 1)
  await b.stop()
  await ingest(a, instance(11))
  await ingest(a, instance(12))
  const written = await opCount(a)
  await b.start()
  // B publishes its new address on return, so both logs grow by that op.
  await waitFor('B caught up with A', async () => await opCount(b) >= written && await opCount(b) === await opCount(a) && localStudies(b) === 1 && b.mesh!.studies()[0]!.instances === 3)
  await waitFor('A sees B nothing behind', () => a.mesh!.peers().find((p) => p.nodeId === b.nodeId)?.opsBehind === 0)
})

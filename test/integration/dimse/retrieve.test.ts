/**
 * C-MOVE to a storescp the test runs, and C-GET back to getscu: every instance arrives with its
 * dataset byte-identical to what is stored, in the syntax it is stored in (storescp writes with
 * +B, exactly as received; for getscu a relay records the wire); the move reports sub-operation counts; an unknown destination is
 * 0xA801; a remote without the retrieve permission is refused.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import type { Pacs } from '../../../node/pacs/pacs.ts'
import { NODE_AE, remote, runTool, startDimseNode, startStorescp } from '../../helpers/dimse-node.ts'
import { commandElement, startRelay } from '../../helpers/dimse-wire.ts'
import { tempDir } from '../../helpers/files.ts'
import { syntheticStudy, type SyntheticInstance } from '../../synthetic/study.ts'

async function ingestAll (pacs: Pacs, instances: SyntheticInstance[]): Promise<void> {
  for (const i of instances) {
    const meta = parseFileMeta(i.bytes, i.bytes.length)!
    async function * dataset (): AsyncIterable<Uint8Array> { yield i.bytes.subarray(meta.metaEnd) }
    await pacs.ingestDataset(dataset(), { transferSyntaxUid: meta.transferSyntaxUid, sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })
  }
}

async function storedDataset (pacs: Pacs, sopInstanceUid: string): Promise<{ ts: string, dataset: Buffer }> {
  const parts: Uint8Array[] = []
  for await (const p of pacs.read((await pacs.findInstance(sopInstanceUid))!)) parts.push(p)
  const file = Buffer.concat(parts)
  const meta = parseFileMeta(file, file.length)!
  return { ts: meta.transferSyntaxUid, dataset: file.subarray(meta.metaEnd) }
}

/** Files a dcmtk receiver wrote: SOP Instance UID (from their meta) → syntax and dataset bytes. */
async function received (dir: string): Promise<Map<string, { ts: string, dataset: Buffer }>> {
  const out = new Map<string, { ts: string, dataset: Buffer }>()
  for (const name of await readdir(dir)) {
    const file = await readFile(join(dir, name))
    const meta = parseFileMeta(file, file.length)
    if (meta === undefined) continue
    out.set(meta.mediaStorageSopInstanceUid ?? name, { ts: meta.transferSyntaxUid, dataset: file.subarray(meta.metaEnd) })
  }
  return out
}

test('C-MOVE sends every instance byte-identical, in its stored syntax, with counts', async (t) => {
  const dest = await startStorescp(t, 'DEST')
  const node = await startDimseNode(t, { remotes: [remote('MOVESCU'), remote('DEST', { port: dest.port, store: false, query: false, retrieve: false })] })
  const study = syntheticStudy({ seed: 51, accessionNumber: 'ACCMOVE' })
  await ingestAll(node.pacs, study)
  assert.ok(new Set(study.map((i) => i.transferSyntaxUid)).size >= 5)

  const r = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study[0]!.studyInstanceUid}`, '127.0.0.1', String(node.port)])
  const out = r.stdout + r.stderr
  assert.equal(r.code, 0, out + dest.output() + node.logs.join(""))
  assert.match(out, /Received Final Move Response \(Success\)/, out + dest.output())
  assert.match(out, /Pending/, 'pending responses with counts')
  const got = await received(dest.dir)
  assert.equal(got.size, study.length, dest.output())
  for (const instance of study) {
    const sent = got.get(instance.sopInstanceUid)
    assert.ok(sent !== undefined, `${instance.transferSyntaxUid} received`)
    const mine = await storedDataset(node.pacs, instance.sopInstanceUid)
    assert.equal(sent.ts, mine.ts, 'sent in the stored syntax')
    // A deflated stream of odd length goes out with the one pad byte PS3.5 A.5 requires.
    const expected = mine.ts === '1.2.840.10008.1.2.1.99' && mine.dataset.length % 2 === 1 ? Buffer.concat([mine.dataset, Buffer.of(0)]) : mine.dataset
    assert.ok(sent.dataset.equals(expected), `${instance.transferSyntaxUid}: byte-identical`)
  }
  const moves = node.logs.filter((l) => l.includes('"event":"dimse.move"'))
  assert.match(moves.at(-1)!, new RegExp(`"completed":${study.length}`))

  // A series, then one image.
  const series = study.filter((i) => i.seriesInstanceUid === study.at(-1)!.seriesInstanceUid)
  const rs = await runTool(t, 'movescu', ['-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${study[0]!.studyInstanceUid}`, '-k', `SeriesInstanceUID=${series[0]!.seriesInstanceUid}`, '127.0.0.1', String(node.port)])
  assert.equal(rs.code, 0, rs.stdout + rs.stderr)
  assert.match(node.logs.filter((l) => l.includes('"event":"dimse.move"')).at(-1)!, new RegExp(`"completed":${series.length}`))

  const unknown = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'NOWHERE', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study[0]!.studyInstanceUid}`, '127.0.0.1', String(node.port)])
  assert.match(unknown.stdout + unknown.stderr, /MoveDestinationUnknown|a801/i, unknown.stdout + unknown.stderr)
})

test('C-MOVE to a destination that is down fails its sub-operations and says so', async (t) => {
  const node = await startDimseNode(t, { remotes: [remote('MOVESCU'), remote('DEST', { port: 9, store: false, query: false, retrieve: false })] })
  const study = syntheticStudy({ seed: 52, accessionNumber: 'ACCMOVE2' }).slice(0, 3)
  await ingestAll(node.pacs, study)
  const r = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study[0]!.studyInstanceUid}`, '127.0.0.1', String(node.port)])
  assert.match(r.stdout + r.stderr, /Final Move Response \((Failed|Refused|Error)/i, r.stdout + r.stderr)
  const echo = await runTool(t, 'echoscu', ['-aet', 'MOVESCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(echo.code, 0)
})

test('C-GET returns the instances on the same association, byte-identical on the wire', async (t) => {
  const node = await startDimseNode(t)
  // getscu re-serializes what it receives before writing it (it has no bit-preserving mode), so
  // the reference is what the relay saw the node send.
  const relay = await startRelay(t, node.port)
  const study = syntheticStudy({ seed: 53, accessionNumber: 'ACCGET' })
  await ingestAll(node.pacs, study)
  const explicit = study.filter((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1')
  const seriesUid = explicit[0]!.seriesInstanceUid
  const series = study.filter((i) => i.seriesInstanceUid === seriesUid)
  const out = await tempDir(t, 'peerpacs-getscu-')
  const r = await runTool(t, 'getscu', ['-v', '-S', '-aet', 'GETSCU', '-aec', NODE_AE, '-od', out, '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${study[0]!.studyInstanceUid}`, '-k', `SeriesInstanceUID=${seriesUid}`, '127.0.0.1', String(relay.port)])
  assert.equal(r.code, 0, r.stdout + r.stderr + node.logs.join(''))
  assert.match(r.stdout + r.stderr, /Received C-GET Response \(Success\)/, r.stdout + r.stderr)
  assert.match(r.stdout + r.stderr, new RegExp(`Number of Completed Suboperations : ${series.length}`))
  const got = await received(out)
  assert.equal(got.size, series.length, 'getscu wrote every instance')
  const wire = new Map<string, Buffer>()
  for (const reader of relay.fromServer) {
    for (const m of reader.messages) {
      if (commandElement(m.command, 0x0100)?.readUInt16LE(0) === 0x0001 && m.dataset !== undefined) {
        wire.set(commandElement(m.command, 0x1000)!.toString('latin1').replace(/[\0 ]+$/, ''), m.dataset)
      }
    }
  }
  assert.equal(wire.size, series.length)
  for (const instance of series) {
    const mine = await storedDataset(node.pacs, instance.sopInstanceUid)
    assert.equal(got.get(instance.sopInstanceUid)!.ts, mine.ts, 'received in the stored syntax')
    assert.ok(wire.get(instance.sopInstanceUid)!.equals(mine.dataset), 'sent byte-identical')
  }
})

test('a remote without the retrieve permission cannot C-MOVE or C-GET', async (t) => {
  const node = await startDimseNode(t, { remotes: [remote('MOVESCU', { retrieve: false }), remote('DEST', { port: 9 })] })
  const r = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID=1.2.3', '127.0.0.1', String(node.port)])
  assert.match(r.stdout + r.stderr, /No Acceptable Presentation Contexts|No valid Presentation Context|not accepted|refused/i, r.stdout + r.stderr)
})

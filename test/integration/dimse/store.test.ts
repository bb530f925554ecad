/**
 * C-STORE from dcmtk's storescu into the archive: a multi-series study in every transfer syntax
 * the generator has, each stored with its dataset byte-identical to what was on the wire (a
 * relay records it: storescu re-serializes every dataset, so the file is not the reference),
 * queryable at once; a second send is a duplicate and succeeds; nothing in the logs is PHI.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import type { Pacs } from '../../../node/pacs/pacs.ts'
import { writeStudies, type WrittenInstance } from '../../helpers/dataset.ts'
import { NODE_AE, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { commandElement, startRelay, type PduReader } from '../../helpers/dimse-wire.ts'
import { tempDir } from '../../helpers/files.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

/** storescu's flag that makes it propose the file's own syntax first, so it does not convert. */
const PROPOSE: Record<string, string[]> = {
  '1.2.840.10008.1.2': ['-xi'],
  '1.2.840.10008.1.2.2': ['-xb'],
  '1.2.840.10008.1.2.5': ['-xr'],
  '1.2.840.10008.1.2.1.99': ['-xd']
}

async function stored (pacs: Pacs, sopInstanceUid: string): Promise<{ ts: string, dataset: Buffer } | undefined> {
  const held = await pacs.findInstance(sopInstanceUid)
  if (held === undefined) return undefined
  const parts: Uint8Array[] = []
  for await (const p of pacs.read(held)) parts.push(p)
  const file = Buffer.concat(parts)
  const meta = parseFileMeta(file, file.length)!
  return { ts: meta.transferSyntaxUid, dataset: file.subarray(meta.metaEnd) }
}

const DEFLATED = '1.2.840.10008.1.2.1.99'

function uidOf (value: Buffer | undefined): string {
  return (value ?? Buffer.alloc(0)).toString('latin1').replace(/[\0 ]+$/, '')
}

/** Every C-STORE-RQ (command field 0x0001) the relay saw: SOP Instance UID → dataset bytes. */
function sentDatasets (readers: PduReader[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const r of readers) {
    for (const m of r.messages) {
      if (commandElement(m.command, 0x0100)?.readUInt16LE(0) !== 0x0001 || m.dataset === undefined) continue
      out.set(uidOf(commandElement(m.command, 0x1000)), m.dataset)
    }
  }
  return out
}

function byTransferSyntax (instances: WrittenInstance[]): Map<string, WrittenInstance[]> {
  const groups = new Map<string, WrittenInstance[]>()
  for (const i of instances) groups.set(i.transferSyntaxUid, [...(groups.get(i.transferSyntaxUid) ?? []), i])
  return groups
}

test('storescu stores a multi-series study in every syntax, byte-identical to the wire; resending is a duplicate', async (t) => {
  const node = await startDimseNode(t)
  const relay = await startRelay(t, node.port)
  const set = await writeStudies(await tempDir(t), [{ seed: 21, accessionNumber: 'ACCSTORE1' }])
  const groups = byTransferSyntax(set.instances)
  assert.ok(groups.size >= 5, 'implicit, explicit LE, explicit BE, deflated and RLE are all present')
  // Deflated: see the todo test below.
  groups.delete(DEFLATED)
  const sendable = set.instances.filter((i) => i.transferSyntaxUid !== DEFLATED)
  assert.ok(new Set(set.instances.map((i) => i.seriesInstanceUid)).size > 1, 'several series')

  for (const [ts, instances] of groups) {
    const r = await runTool(t, 'storescu', ['-v', ...(PROPOSE[ts] ?? []), '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(relay.port), ...instances.map((i) => i.path)])
    assert.equal(r.code, 0, `${ts}: ${r.stdout}${r.stderr}${node.logs.filter((l) => l.includes("store.failed")).join("")}`)
    assert.doesNotMatch(r.stdout + r.stderr, /Store Failed|Status: [^0]/, ts)
  }
  const sent = sentDatasets(relay.fromClient)
  assert.equal(sent.size, sendable.length, 'one C-STORE per instance on the wire')
  let sameAsFile = 0
  for (const instance of sendable) {
    const back = await stored(node.pacs, instance.sopInstanceUid)
    assert.ok(back !== undefined, `${instance.transferSyntaxUid}: stored`)
    assert.equal(back.ts, instance.transferSyntaxUid, 'stored in the syntax it was sent in')
    assert.ok(back.dataset.equals(sent.get(instance.sopInstanceUid)!), `${instance.transferSyntaxUid}: stored dataset is byte-identical to the wire`)
    const fileMeta = parseFileMeta(instance.bytes, instance.bytes.length)!
    if (back.dataset.equals(Buffer.from(instance.bytes.subarray(fileMeta.metaEnd)))) sameAsFile++
  }
  t.diagnostic(`${sameAsFile} of ${sendable.length} datasets were also byte-identical to the files storescu read`)

  const series = (await node.pacs.query('SERIES', { StudyInstanceUID: set.instances[0]!.studyInstanceUid }))
  assert.equal(series.rows.length, new Set(sendable.map((i) => i.seriesInstanceUid)).size)

  // The same bytes again: duplicates, reported as success.
  const explicit = groups.get('1.2.840.10008.1.2.1')!
  const again = await runTool(t, 'storescu', ['-v', '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(node.port), ...explicit.map((i) => i.path)])
  assert.equal(again.code, 0, again.stdout + again.stderr)
  assert.equal(node.pacs.instanceCount, sendable.length)
  assert.ok(node.logs.some((l) => l.includes('"result":"duplicate"')))

  // Logs carry AE titles, statuses and sizes: never a patient's name or ID, never a UID.
  const logs = node.logs.join('')
  for (const p of KNOWN_PATIENTS) {
    assert.ok(!logs.includes(p.id) && !logs.includes(p.name.split('^')[0]!), 'no patient identifiers in logs')
  }
  assert.doesNotMatch(logs, /\d+\.\d+\.\d+\.\d+\.\d+/, 'no UIDs in logs')
})

test('storescu with TCP_NODELAY=1 and its default proposal: what it converts is stored as converted', async (t) => {
  const node = await startDimseNode(t)
  const relay = await startRelay(t, node.port)
  const set = await writeStudies(await tempDir(t), [{ seed: 22, accessionNumber: 'ACCSTORE2' }])
  const uncompressed = set.instances.filter((i) => ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'].includes(i.transferSyntaxUid))
  const r = await runTool(t, 'storescu', ['-v', '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(relay.port), ...uncompressed.map((i) => i.path)], { TCP_NODELAY: '1' })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  const sent = sentDatasets(relay.fromClient)
  for (const instance of uncompressed) {
    const back = await stored(node.pacs, instance.sopInstanceUid)
    assert.ok(back !== undefined)
    assert.ok(back.dataset.equals(sent.get(instance.sopInstanceUid)!), 'stored exactly what was sent')
  }
  assert.equal(node.pacs.instanceCount, uncompressed.length)
})

test('a deflated dataset with the PS3.5 A.5 trailing pad byte is stored', async (t) => {
  const node = await startDimseNode(t)
  const set = await writeStudies(await tempDir(t), [{ seed: 21, accessionNumber: 'ACCSTORE1' }])
  const deflated = set.instances.filter((i) => i.transferSyntaxUid === DEFLATED)
  const r = await runTool(t, 'storescu', ['-xd', '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(node.port), ...deflated.map((i) => i.path)])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  for (const i of deflated) assert.ok(await node.pacs.findInstance(i.sopInstanceUid) !== undefined)
})

/**
 * Malformed C-STOREs, sent byte for byte by a raw client (storescu refuses to send most of
 * them): each gets a failure status with a reason in the Error Comment, nothing is stored, and
 * the node keeps serving the same and other associations.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { elementOffset, storeRaw, withoutElement, type RawStore } from '../../helpers/dimse-client.ts'
import { NODE_AE, remote, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

const EXPLICIT_LE = '1.2.840.10008.1.2.1'

function explicitInstances (seed: number): RawStore[] {
  return syntheticStudy({ seed }).filter((i) => i.transferSyntaxUid === EXPLICIT_LE).map((i) => {
    const meta = parseFileMeta(i.bytes, i.bytes.length)!
    return { sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid, transferSyntaxUid: EXPLICIT_LE, dataset: i.bytes.subarray(meta.metaEnd) }
  })
}

test('malformed datasets each fail with a reason, store nothing, and the node keeps serving', async (t) => {
  const node = await startDimseNode(t)
  const [good, other] = explicitInstances(31)
  assert.ok(good !== undefined && other !== undefined)
  const wrongLength = Buffer.from(good.dataset)
  // Patient's Name (0010,0010): a 16-bit length far past the end of the dataset.
  wrongLength.writeUInt16LE(0xfff0, elementOffset(good.dataset, 0x00100010) + 6)
  const cases: Array<{ name: string, item: RawStore, status: number[], comment: RegExp }> = [
    { name: 'truncated', item: { ...good, dataset: good.dataset.subarray(0, good.dataset.length - 101) }, status: [0xc000], comment: /./ },
    { name: 'wrong element length', item: { ...good, dataset: wrongLength }, status: [0xc000], comment: /./ },
    { name: 'missing SOP Instance UID', item: { ...good, dataset: withoutElement(good.dataset, 0x00080018) }, status: [0xc000, 0xa900], comment: /SOPInstanceUID|0008,0018|missing/i },
    { name: 'garbage', item: { ...good, dataset: new Uint8Array(2000).map((_, i) => (i * 73 + 11) & 0xff) }, status: [0xc000], comment: /./ },
    { name: 'SOP Instance UID differs from the command', item: { ...good, sopInstanceUid: '1.2.3.4.5.6.7.8' }, status: [0xa900], comment: /SOP Instance UID/ },
    { name: 'SOP Class UID differs from the command', item: { ...good, sopClassUid: good.sopClassUid === '1.2.840.10008.5.1.4.1.1.4' ? '1.2.840.10008.5.1.4.1.1.2' : '1.2.840.10008.5.1.4.1.1.4' }, status: [0xa900], comment: /SOP Class UID/ },
    // (An empty dataset cannot be sent: the client writes no PDV for it, and the node waits for one.)
    { name: 'two bytes', item: { ...good, dataset: Uint8Array.of(0x08, 0x00) }, status: [0xc000], comment: /./ }
  ]
  // All on one association, a valid instance last: a failure leaves the association usable.
  const answers = await storeRaw(node.port, 'STORESCU', NODE_AE, [...cases.map((c) => c.item), other])
  for (const [i, c] of cases.entries()) {
    const a = answers[i]!
    assert.ok(a.status !== undefined && c.status.includes(a.status), `${c.name}: status 0x${a.status?.toString(16)} (${a.comment})`)
    assert.match(a.comment ?? '', c.comment, `${c.name}: reason given`)
    t.diagnostic(`${c.name}: 0x${a.status.toString(16)} ${a.comment}`)
  }
  assert.equal(answers.at(-1)!.status, 0, 'the valid instance after them is stored')
  const stored: string[] = []
  for await (const i of node.pacs.everyInstance()) stored.push(i.sopInstanceUid)
  assert.deepEqual(stored, [other.sopInstanceUid], 'nothing else was stored')

  // The same SOP Instance UID with other content: refused, the stored one kept.
  const changed = Buffer.from(other.dataset)
  changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff
  const [conflict] = await storeRaw(node.port, 'STORESCU', NODE_AE, [{ ...other, dataset: changed }])
  assert.equal(conflict!.status, 0x0111, conflict!.comment)
  assert.match(conflict!.comment ?? '', /different content/)

  const echo = await runTool(t, 'echoscu', ['-aet', 'ECHOSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.equal(echo.code, 0, 'still answering')
})

test('a remote without the store permission is refused storage', async (t) => {
  const node = await startDimseNode(t, { remotes: [remote('QUERYONLY', { store: false }), remote('STORESCU')] })
  const [good] = explicitInstances(32)
  // Its storage contexts are rejected at negotiation, so the client has nothing to send on.
  const answers = await storeRaw(node.port, 'QUERYONLY', NODE_AE, [good!])
  assert.notEqual(answers[0]!.status, 0)
  assert.equal(node.pacs.instanceCount, 0)
  const ok = await storeRaw(node.port, 'STORESCU', NODE_AE, [good!])
  assert.equal(ok[0]!.status, 0)
})

/**
 * Issue 12 items 13 and 14 against the real tools. A small corpus made with dcmtk (dump2dcm,
 * dcmconv, dcmodify) and read back by dcmdump, so each file is one dcmtk accepts:
 *  - private sequences nested three deep in private sequences, explicit and implicit VR, defined
 *    and undefined lengths, and the explicit VR form of an unknown private sequence, UN of
 *    undefined length holding implicit VR (CP-246);
 *  - deflated (dcmconv +td), and the same with a gzip trailer (CRC-32 + length) after the stream;
 *  - no SOP Class UID in the dataset, and neither SOP Class nor Instance UID, which the file
 *    meta still names.
 * Imported with the CLI, each exports byte-identical; sent with storescu (all but the last two,
 * which storescu itself refuses to send: "No SOP Class or Instance UID in file"), each is
 * stored with the dataset that was on the wire (a relay records it: storescu re-encodes
 * lengths and deflate); over STOW the last two are stored byte-identical too.
 * Then the duplicate check (item 14): the same file from two AE titles, and a C-STORE after a
 * STOW, are duplicates answered with success; both receptions are audited; a copy converted to
 * another transfer syntax is refused with 0x0111, the stored one kept.
 */
import assert from 'node:assert/strict'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, inflateRawSync } from 'node:zlib'
import { describe, test, type TestContext } from 'node:test'
import { Hono } from 'hono'
import { EVENT_ID, type AuditRecord } from '../../protocol/audit/index.ts'
import { readAuditTrail } from '../../node/audit/audit-trail.ts'
import { createLogger } from '../../node/logging/logger.ts'
import { parseFileMeta } from '../../node/dicom/file-meta.ts'
import { dicomwebRoutes } from '../../node/dicomweb/routes.ts'
import type { Pacs } from '../../node/pacs/pacs.ts'
import { runCli, show } from '../helpers/cli.ts'
import { mixedStudies, writeStudies } from '../helpers/dataset.ts'
import { dcmtk } from '../helpers/dcmtk.ts'
import { multipartBody } from '../helpers/dicomweb-server.ts'
import { NODE_AE, remote, runTool, startDimseNode } from '../helpers/dimse-node.ts'
import { commandElement, startRelay, type PduReader } from '../helpers/dimse-wire.ts'
import { tempDir } from '../helpers/files.ts'
import {
  concat, ITEM, ITEM_DELIMITER, RAW_EXPLICIT_LE, RAW_IMPLICIT_LE, rawDelimiter, rawElement, rawHeader, SEQUENCE_DELIMITER, UNDEFINED_LENGTH
} from '../unit/node/helpers/dicom.ts'
import { writePart10 } from '../synthetic/part10-writer.ts'

const ROOT = '1.2.826.0.1.3680043.10.1312'
const STUDY = `${ROOT}.1`
const SERIES = `${ROOT}.2`
const CT = '1.2.840.10008.5.1.4.1.1.2'
const EXPLICIT = '1.2.840.10008.1.2.1'
const IMPLICIT = '1.2.840.10008.1.2'
const DEFLATED = '1.2.840.10008.1.2.1.99'
const BIG_ENDIAN = '1.2.840.10008.1.2.2'

interface CorpusFile { name: string, path: string, sop: string, ts: string, storescu: string[] | undefined }

/** A dcmdump-format description of an instance whose private sequences nest three deep. */
function nestedDump (sop: string): string {
  return `(0002,0001) OB 00\\01
(0002,0002) UI =CTImageStorage
(0002,0003) UI [${sop}]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =CTImageStorage
(0008,0018) UI [${sop}]
(0008,0060) CS [CT]
(0009,0010) LO [ACME 1.0]
(0009,1000) SQ (Sequence with undefined length #=1)
  (fffe,e000) na (Item with undefined length #=3)
    (0009,0010) LO [ACME 1.0]
    (0009,1001) SQ (Sequence with undefined length #=1)
      (fffe,e000) na (Item with undefined length #=2)
        (0009,0010) LO [ACME 1.0]
        (0009,1002) SQ (Sequence with undefined length #=1)
          (fffe,e000) na (Item with undefined length #=1)
            (0009,1003) LO [LEAF]
          (fffe,e00d) na (ItemDelimitationItem)
        (fffe,e0dd) na (SequenceDelimitationItem)
      (fffe,e00d) na (ItemDelimitationItem)
    (fffe,e0dd) na (SequenceDelimitationItem)
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0010,0010) PN [ZZINTEROP^CORPUS]
(0010,0020) LO [PPX-INTEROP-1]
(0020,000d) UI [${STUDY}]
(0020,000e) UI [${SERIES}]
(0020,0013) IS [1]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 16
(0028,0101) US 16
(0028,0102) US 15
(0028,0103) US 0
(7fe0,0010) OW 0001\\0002\\0003\\0004
`
}

function tool (name: string, args: string[]): void {
  const r = dcmtk(name, args)
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
}

/** The explicit VR form of an unknown private sequence: UN, undefined length, implicit VR inside (CP-246). */
function unSequenceFile (sop: string): Uint8Array {
  const im = RAW_IMPLICIT_LE
  const leaf = concat(rawElement(0x0009_0010, 'LO', 'ACME 1.0', im), rawElement(0x0009_1003, 'LO', 'LEAF', im))
  const inner = concat(rawHeader(0x0009_1001, 'UN', UNDEFINED_LENGTH, im), rawDelimiter(ITEM, UNDEFINED_LENGTH), leaf, rawDelimiter(ITEM_DELIMITER, 0), rawDelimiter(SEQUENCE_DELIMITER, 0))
  const outer = concat(
    rawHeader(0x0009_1000, 'UN', UNDEFINED_LENGTH, RAW_EXPLICIT_LE), rawDelimiter(ITEM, UNDEFINED_LENGTH),
    rawElement(0x0009_0010, 'LO', 'ACME 1.0', im), inner, rawDelimiter(ITEM_DELIMITER, 0), rawDelimiter(SEQUENCE_DELIMITER, 0)
  )
  const shell = writePart10({ sopClassUid: CT, sopInstanceUid: sop, transferSyntaxUid: EXPLICIT, elements: [] })
  const metaEnd = parseFileMeta(shell, shell.length)!.metaEnd
  const ex = RAW_EXPLICIT_LE
  return concat(shell.subarray(0, metaEnd),
    rawElement(0x0008_0016, 'UI', CT, ex), rawElement(0x0008_0018, 'UI', sop, ex), rawElement(0x0008_0060, 'CS', 'CT', ex),
    rawElement(0x0009_0010, 'LO', 'ACME 1.0', ex), outer,
    rawElement(0x0010_0010, 'PN', 'ZZINTEROP^CORPUS', ex), rawElement(0x0010_0020, 'LO', 'PPX-INTEROP-1', ex),
    rawElement(0x0020_000d, 'UI', STUDY, ex), rawElement(0x0020_000e, 'UI', SERIES, ex))
}

/** Writes the corpus into `dir`; every file is checked to be one dcmdump reads without error. */
async function makeCorpus (dir: string): Promise<CorpusFile[]> {
  const files: CorpusFile[] = []
  let n = 0
  const base = async (): Promise<{ sop: string, path: string }> => {
    const sop = `${ROOT}.3.${++n}`
    const dump = join(dir, `${n}.dump`)
    await writeFile(dump, nestedDump(sop))
    const path = join(dir, `${n}-base.dcm`)
    tool('dump2dcm', ['+te', dump, path])
    return { sop, path }
  }
  const converted = async (name: string, args: string[], ts: string, storescu: string[] | undefined): Promise<void> => {
    const { sop, path: from } = await base()
    const path = join(dir, `${name}.dcm`)
    tool('dcmconv', [...args, from, path])
    files.push({ name, path, sop, ts, storescu })
  }
  await converted('nested explicit, defined lengths', ['+te', '+e'], EXPLICIT, [])
  await converted('nested explicit, undefined lengths', ['+te', '-e'], EXPLICIT, [])
  await converted('nested implicit, defined lengths', ['+ti', '+e'], IMPLICIT, ['-xi'])
  await converted('nested implicit, undefined lengths', ['+ti', '-e'], IMPLICIT, ['-xi'])
  await converted('deflated', ['+td'], DEFLATED, ['-xd'])

  {
    const sop = `${ROOT}.3.${++n}`
    const path = join(dir, 'nested UN of undefined length.dcm')
    await writeFile(path, unSequenceFile(sop))
    files.push({ name: 'nested UN of undefined length', path, sop, ts: EXPLICIT, storescu: [] })
  }
  {
    // dcmconv +td, then the gzip trailer of the inflated dataset after the stream.
    const { sop, path: from } = await base()
    const deflated = join(dir, `${n}-deflated.dcm`)
    tool('dcmconv', ['+td', from, deflated])
    const bytes = new Uint8Array(await readFile(deflated))
    const metaEnd = parseFileMeta(bytes, bytes.length)!.metaEnd
    const dataset = inflateRawSync(bytes.subarray(metaEnd))
    const trailer = new Uint8Array(8)
    new DataView(trailer.buffer).setUint32(0, crc32(dataset), true)
    new DataView(trailer.buffer).setUint32(4, dataset.length, true)
    const path = join(dir, 'deflated with gzip trailer.dcm')
    await writeFile(path, concat(bytes, trailer))
    files.push({ name: 'deflated with gzip trailer', path, sop, ts: DEFLATED, storescu: ['-xd'] })
  }
  // dcmodify -ea would also rewrite the file meta with placeholder UIDs; cut the elements out instead.
  for (const [name, count] of [['no SOP Class UID', 1], ['no SOP Class nor Instance UID', 2]] as const) {
    const { sop, path: from } = await base()
    const bytes = new Uint8Array(await readFile(from))
    const metaEnd = parseFileMeta(bytes, bytes.length)!.metaEnd
    let cut = metaEnd
    for (let i = 0; i < count; i++) cut += 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint16(cut + 6, true) // (0008,0016), (0008,0018): UI, short form
    const path = join(dir, `${name}.dcm`)
    await writeFile(path, concat(bytes.subarray(0, metaEnd), bytes.subarray(cut)))
    files.push({ name, path, sop, ts: EXPLICIT, storescu: undefined })
  }
  for (const f of files) {
    const r = dcmtk('dcmdump', ['-q', f.path])
    assert.equal(r.status, 0, `dcmtk reads ${f.name}: ${r.stderr}`)
    assert.doesNotMatch(r.stderr, /^E:/m, `dcmtk reads ${f.name} without error`)
  }
  return files
}

/** The stored Part 10 file of an instance, read back through the archive. */
async function storedFile (pacs: Pacs, sop: string): Promise<Uint8Array | undefined> {
  const held = await pacs.findInstance(sop)
  if (held === undefined) return undefined
  const parts: Uint8Array[] = []
  for await (const p of pacs.read(held)) parts.push(p)
  return concat(...parts)
}

/** The dataset of the C-STORE-RQ (command field 0x0001) the relay saw for `sop`. */
function sentDataset (readers: PduReader[], sop: string): Uint8Array | undefined {
  for (const r of readers) {
    for (const m of r.messages) {
      if (commandElement(m.command, 0x0100)?.readUInt16LE(0) !== 0x0001 || m.dataset === undefined) continue
      if ((commandElement(m.command, 0x1000) ?? Buffer.alloc(0)).toString('latin1').replace(/[\0 ]+$/, '') === sop) return new Uint8Array(m.dataset)
    }
  }
  return undefined
}

function datasetOf (file: Uint8Array): Uint8Array {
  return file.subarray(parseFileMeta(file, file.length)!.metaEnd)
}

describe('interop corpus: what dcmtk reads and sends is stored, byte-identical', () => {
  test('CLI import: every file imported, and exported byte-identical', async (t) => {
    const dir = await tempDir(t, 'peerpacs-interop-')
    const corpus = await makeCorpus(join(dir))
    const data = join(dir, 'data')
    assert.equal((await runCli(['init', '--data', data])).code, 0)
    const r = await runCli(['import', '--data', data, '--json', ...corpus.map((f) => f.path)])
    assert.equal(r.code, 0, show(r))
    for (const f of corpus) {
      const record = r.records.find((x) => x.type === 'file' && x.path === f.path)
      assert.equal(record?.status, 'imported', `${f.name}: ${JSON.stringify(record)}`)
    }
    const out = join(dir, 'out')
    const exported = await runCli(['export', '--data', data, STUDY, out])
    assert.equal(exported.code, 0, show(exported))
    for (const f of corpus) {
      const back = new Uint8Array(await readFile(join(out, SERIES, `${f.sop}.dcm`)))
      assert.deepEqual(back, new Uint8Array(await readFile(f.path)), `${f.name}: exported byte-identical`)
    }
  })

  test('storescu: every file it can send is stored as sent; STOW stores the two it cannot', async (t) => {
    const dir = await tempDir(t, 'peerpacs-interop-')
    const corpus = await makeCorpus(dir)
    const node = await startDimseNode(t)
    const relay = await startRelay(t, node.port)
    for (const f of corpus.filter((c) => c.storescu !== undefined)) {
      const r = await runTool(t, 'storescu', ['-v', ...f.storescu!, '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(relay.port), f.path])
      assert.equal(r.code, 0, `${f.name}: ${r.stdout}${r.stderr}`)
      assert.doesNotMatch(r.stdout + r.stderr, /Store Failed|Status: [^0]/, f.name)
      const stored = await storedFile(node.pacs, f.sop)
      assert.ok(stored !== undefined, `${f.name}: stored`)
      assert.equal(parseFileMeta(stored, stored.length)!.transferSyntaxUid, f.ts, `${f.name}: in the syntax sent`)
      const sent = sentDataset(relay.fromClient, f.sop)
      assert.ok(sent !== undefined, `${f.name}: seen on the wire`)
      assert.deepEqual(datasetOf(stored), sent, `${f.name}: the dataset is stored as it was on the wire`)
    }
    const app = new Hono()
    app.route('/dicomweb', dicomwebRoutes(node.pacs, { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 1 << 20 }, createLogger({ level: 'error', write: () => {} })))
    for (const f of corpus.filter((c) => c.storescu === undefined)) {
      const file = new Uint8Array(await readFile(f.path))
      const { body, contentType } = multipartBody([file])
      const res = await app.request('/dicomweb/studies', { method: 'POST', body, headers: { 'content-type': contentType, accept: 'application/dicom+json' } })
      assert.equal(res.status, 200, `${f.name}: ${await res.text()}`)
      assert.deepEqual(await storedFile(node.pacs, f.sop), file, `${f.name}: stored byte-identical over STOW`)
    }
  })
})

async function auditRecords (pacs: Pacs): Promise<AuditRecord[]> {
  await pacs.archive.auditor.flush()
  return (await readAuditTrail(pacs.archive)).map((e) => e.record).filter((r): r is AuditRecord => r !== undefined)
}

/** The 110104 records of instances received from `aeTitle` that name the corpus study. */
async function receptionsFrom (t: TestContext, pacs: Pacs, aeTitle: string): Promise<AuditRecord[]> {
  // The DIMSE edge writes its record when the association closes, just after storescu exits.
  for (let i = 0; ; i++) {
    const found = (await auditRecords(pacs)).filter((r) => r.eventId === EVENT_ID.instancesTransferred &&
      r.participants.some((p) => p.userId === aeTitle) && r.objects.some((o) => o.id === STUDY))
    if (found.length > 0 || i === 50) return found
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('identity is the dataset, not the file meta', () => {
  test('the same file from two AE titles, a C-STORE after a STOW, copies storescu converts: success, stored once, receptions audited; a changed copy is 0x0111', async (t) => {
    const dir = await tempDir(t, 'peerpacs-interop-')
    // Files storescu sends unchanged (it re-encodes undefined lengths as defined ones).
    const corpus = await makeCorpus(dir)
    const first = corpus.find((f) => f.name === 'nested explicit, defined lengths')
    const second = corpus.find((f) => f.name === 'nested implicit, defined lengths')
    assert.ok(first !== undefined && second !== undefined)
    const node = await startDimseNode(t, { remotes: [remote('MODALITY_A'), remote('MODALITY_B')] })
    const send = async (aeTitle: string, file: string, extra: string[] = []): Promise<string> => {
      const r = await runTool(t, 'storescu', ['-v', ...extra, '-aet', aeTitle, '-aec', NODE_AE, '127.0.0.1', String(node.port), file])
      return `${r.code}\n${r.stdout}${r.stderr}`
    }

    // From A, then the same file from B: the stored file meta names A, and B's copy is still a duplicate.
    assert.match(await send('MODALITY_A', first.path), /^0\n[\s\S]*Received Store Response \(Success\)/)
    const fromA = await storedFile(node.pacs, first.sop)
    const b = await send('MODALITY_B', first.path)
    assert.match(b, /^0\n[\s\S]*Received Store Response \(Success\)/, b)
    assert.doesNotMatch(b, /Warning|Failure|Duplicate/i, b)
    assert.deepEqual(await storedFile(node.pacs, first.sop), fromA, 'the copy stored first is kept, byte for byte')
    assert.ok(node.logs.some((l) => l.includes('"result":"duplicate"')))
    assert.equal((await receptionsFrom(t, node.pacs, 'MODALITY_A')).length, 1, 'the reception from A is audited')
    assert.equal((await receptionsFrom(t, node.pacs, 'MODALITY_B')).length, 1, 'the reception from B is audited')

    // STOW the file (its own dcmtk-written meta), then C-STORE the same instance.
    const app = new Hono()
    app.route('/dicomweb', dicomwebRoutes(node.pacs, { host: '127.0.0.1', port: 0, corsOrigins: [], maxStowBytes: 1 << 20 }, createLogger({ level: 'error', write: () => {} })))
    const file = new Uint8Array(await readFile(second.path))
    const { body, contentType } = multipartBody([file])
    const stow = await app.request('/dicomweb/studies', { method: 'POST', body, headers: { 'content-type': contentType, accept: 'application/dicom+json' } })
    assert.equal(stow.status, 200, await stow.text())
    const after = await send('MODALITY_A', second.path, second.storescu)
    assert.match(after, /^0\n[\s\S]*Received Store Response \(Success\)/, after)
    assert.deepEqual(await storedFile(node.pacs, second.sop), file, 'the STOWed file is kept, byte for byte')
    assert.equal(node.pacs.instanceCount, 2, 'nothing duplicated in the catalogue')

    // Instances storescu converts on the way (implicit to explicit VR, big endian rewritten with
    // defined lengths): other bytes, the same values: success, and the copy stored first is kept.
    const set = await writeStudies(join(dir, 'synthetic'), mixedStudies(5))
    const plain = set.instances.filter((i) => [IMPLICIT, EXPLICIT, BIG_ENDIAN].includes(i.transferSyntaxUid))
    assert.ok(plain.some((i) => i.transferSyntaxUid === IMPLICIT) && plain.some((i) => i.transferSyntaxUid === BIG_ENDIAN), 'the set has implicit VR and big endian files')
    for (const instance of plain) {
      const as = await send('MODALITY_A', instance.path, ['-R'])
      assert.match(as, /^0\n[\s\S]*Received Store Response \(Success\)/, as)
      const kept = await storedFile(node.pacs, instance.sopInstanceUid)
      const again = await send('MODALITY_B', instance.path, instance.transferSyntaxUid === IMPLICIT ? ['-xe'] : [])
      assert.match(again, /Converting transfer syntax[\s\S]*Received Store Response \(Success\)/, again)
      assert.deepEqual(await storedFile(node.pacs, instance.sopInstanceUid), kept)
    }
    // A changed value under the same SOP Instance UID: a conflict; the stored copy kept.
    const changed = join(dir, 'changed.dcm')
    await copyFile(first.path, changed)
    const modified = await runTool(t, 'dcmodify', ['-nb', '-i', 'StudyDescription=CHANGED AFTER THE FACT', changed])
    assert.equal(modified.code, 0, modified.stderr)
    const refused = await send('MODALITY_B', changed)
    assert.match(refused, /Received Store Response \((Unknown Status: 0x111|.*Duplicate)/i, refused)
    assert.deepEqual(await storedFile(node.pacs, first.sop), fromA)
  })
})

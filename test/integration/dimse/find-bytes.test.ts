/**
 * C-FIND identifiers as dcmtk reads them back: for each uncompressed syntax a request can come in
 * (implicit VR LE, explicit VR LE, explicit VR BE), every value findscu prints and every element
 * dcmdump reads from the extracted responses is the value the catalogue holds — odd-length values
 * padded to even length, empty values, multi-valued ones, a UTF-8 name announced by Specific
 * Character Set, an attribute peerpacs does not keep (empty), a sequence (empty), and an identifier
 * longer than the Maximum Length findscu announces (so it arrives in several PDUs).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import type { Pacs } from '../../../node/pacs/pacs.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { parseFindscu } from '../../helpers/dimse-findscu.ts'
import { NODE_AE, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { tempDir } from '../../helpers/files.ts'
import { KNOWN_PATIENTS } from '../../synthetic/study.ts'

const run = promisify(execFile)

async function ingestFile (pacs: Pacs, path: string, sopClassUid: string, sopInstanceUid: string): Promise<void> {
  const bytes = await readFile(path)
  const meta = parseFileMeta(bytes, bytes.length)!
  async function * dataset (): AsyncIterable<Uint8Array> { yield bytes.subarray(meta.metaEnd) }
  await pacs.ingestDataset(dataset(), { transferSyntaxUid: meta.transferSyntaxUid, sopClassUid, sopInstanceUid })
}

const UTF8_NAME = 'ZZMÜLLER^JÜRGEN'
const LONG = 'LONG DESCRIPTION '.repeat(400).trim()
/** What the request asks for; the values come from the catalogue. */
const KEPT = ['PatientName', 'PatientID', 'StudyInstanceUID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyDescription', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances', 'ReferringPhysicianName']

/** One element as dcmdump prints it: `(gggg,eeee) VR [value] # length, VM Keyword`. */
interface Dumped { vr: string, value: string, length: number, vm: number }

function parseDump (text: string): Map<string, Dumped> {
  const out = new Map<string, Dumped>()
  for (const line of text.split('\n')) {
    const m = /^\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (?:\[(.*?)\]|=(\S+)|\((.*?)\))\s+#\s*(u\/l|\d+),\s*(\d+)\s+(\w+)\s*$/.exec(line)
    if (m === null || m[1] === '0002') continue
    out.set(m[9]!, { vr: m[3]!, value: m[4] ?? m[5] ?? '', length: m[7] === 'u/l' ? -1 : Number(m[7]), vm: Number(m[8]) })
  }
  return out
}

function text (value: unknown): string {
  return Array.isArray(value) ? value.join('\\') : value === undefined ? '' : String(value)
}

test('findscu and dcmdump read back every value as the catalogue holds it, in each uncompressed syntax', { timeout: 180_000 }, async (t) => {
  const root = await tempDir(t, 'peerpacs-find-bytes-')
  const set = await writeStudies(root, [
    { seed: 301, patient: KNOWN_PATIENTS[0], profile: 'mixed', accessionNumber: 'ODD', studyDescription: 'MIXED, ODD ACCESSION' },
    { seed: 302, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 1, accessionNumber: 'EVEN12' },
    { seed: 303, patient: KNOWN_PATIENTS[2], profile: 'ct', slices: 1, accessionNumber: 'LONG' }
  ])
  const utf8 = set.instances.filter((i) => i.relativePath.startsWith('study-2/'))
  for (const i of utf8) {
    await run('dcmodify', ['-nb', '-ie', '-m', '(0008,0005)=ISO_IR 192', '-m', `(0010,0010)=${UTF8_NAME}`, '-m', '(0008,1030)=', i.path])
  }
  // An identifier longer than findscu's smallest Maximum Length (4096): it goes out in several PDVs.
  for (const i of set.instances.filter((i) => i.relativePath.startsWith('study-3/'))) await run('dcmodify', ['-nb', '-m', `(0008,1030)=${LONG}`, i.path])
  const node = await startDimseNode(t)
  for (const i of set.instances) await ingestFile(node.pacs, i.path, i.sopClassUid, i.sopInstanceUid)
  const rows = (await node.pacs.query('STUDY', {})).rows
  assert.equal(rows.length, 3)
  const byUid = new Map(rows.map((r) => [text(r.StudyInstanceUID), r]))
  const mixed = rows.find((r) => r.AccessionNumber === 'ODD')!
  assert.ok(Array.isArray(mixed.ModalitiesInStudy) && mixed.ModalitiesInStudy.length > 1, 'the mixed study has several modalities')
  assert.equal(rows.find((r) => r.AccessionNumber === 'EVEN12')!.PatientName, UTF8_NAME)
  assert.equal(rows.find((r) => r.AccessionNumber === 'LONG')!.StudyDescription, LONG)

  for (const [name, flag] of [['implicit VR LE', '-xi'], ['explicit VR LE', '-xe'], ['explicit VR BE', '-xb']] as const) {
    const out = await tempDir(t, 'peerpacs-find-rsp-')
    const query = ['-S', flag, '--max-pdu', '4096', '-k', 'QueryRetrieveLevel=STUDY', ...KEPT.flatMap((k) => ['-k', k]), '-k', 'InstitutionName', '-k', 'ProcedureCodeSequence',
      '-aet', 'FINDSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)]
    // Once printing the identifiers, once writing them to files (with -X findscu prints none).
    const r = await runTool(t, 'findscu', ['-v', ...query])
    assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`)
    const printed = parseFindscu(r.stdout + r.stderr)
    assert.equal(printed.final, 'Success', name)
    assert.equal(printed.matches.length, 3, name)
    const x = await runTool(t, 'findscu', ['-X', '-od', out, ...query])
    assert.equal(x.code, 0, `${name}: ${x.stdout}${x.stderr}`)
    const files = (await readdir(out)).filter((f) => f.endsWith('.dcm')).sort()
    assert.equal(files.length, 3, `${name}: every response extracted`)
    for (const file of files) {
      const dump = parseDump((await run('dcmdump', ['+L', join(out, file)], { encoding: 'utf8' })).stdout)
      const uid = dump.get('StudyInstanceUID')!.value
      const row = byUid.get(uid)
      assert.ok(row !== undefined, `${name}: response for a study the node holds (${uid})`)
      const shown = printed.matches.find((m) => m.get('StudyInstanceUID') === uid)!
      for (const keyword of KEPT) {
        const expected = text(row[keyword])
        const element = dump.get(keyword)
        assert.ok(element !== undefined, `${name}: ${keyword} is in the response`)
        assert.equal(element.value.replace(/[\0 ]+$/, ''), expected, `${name}: ${keyword} as dcmdump reads it`)
        assert.equal(shown.get(keyword), expected, `${name}: ${keyword} as findscu prints it`)
        const bytes = Buffer.byteLength(expected, 'utf8')
        assert.equal(element.length, bytes + (bytes % 2), `${name}: ${keyword}'s length is its value's, padded to even`)
        assert.equal(element.vm, expected === '' ? 0 : expected.split('\\').length, `${name}: ${keyword}'s value multiplicity`)
      }
      assert.deepEqual(dump.get('InstitutionName'), { vr: 'LO', value: '', length: 0, vm: 0 }, `${name}: an attribute not kept comes back empty`)
      assert.equal(dump.get('ProcedureCodeSequence')?.vr, 'SQ', `${name}: a sequence comes back, empty`)
      assert.equal(dump.get('QueryRetrieveLevel')?.value.trim(), 'STUDY')
      const utf = row.PatientName === UTF8_NAME
      assert.equal(dump.get('SpecificCharacterSet')?.value, utf ? 'ISO_IR 192' : undefined, `${name}: Specific Character Set only where a value needs it`)
    }
  }
  assert.ok(!node.logs.some((l) => l.includes('"level":"error"')), 'no error logged')
})

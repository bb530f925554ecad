/**
 * Stored values that break their VR's rules (as found in a public corpus: a DA of 1997.04.24, a
 * TM of garbage, an IS with letters, an over-long CS, SH and PN) are returned by C-FIND as
 * stored: one odd study never fails a query nor aborts the association, in any of the
 * uncompressed syntaxes an identifier can travel in.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
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

const ODD = {
  StudyDate: '1997.04.24',
  StudyTime: 'garbage!',
  AccessionNumber: 'AN ACCESSION NUMBER FAR OVER SIXTEEN',
  PatientName: `ZZODD^${'X'.repeat(70)}`,
  SeriesNumber: 'A12',
  Modality: 'VERYLONGMODALITYCODE'
}

test('C-FIND returns a study with values that break their VR rules, as stored, with every other study, status success', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'peerpacs-odd-')
  const set = await writeStudies(root, [
    { seed: 71, patient: KNOWN_PATIENTS[0], profile: 'ct', slices: 1, accessionNumber: 'NORMAL1' },
    { seed: 72, patient: KNOWN_PATIENTS[1], profile: 'ct', slices: 1, accessionNumber: 'ODDONE' },
    { seed: 73, patient: KNOWN_PATIENTS[2], profile: 'ct', slices: 1, accessionNumber: 'NORMAL2' }
  ])
  const odd = set.instances.filter((i) => i.relativePath.startsWith('study-2/'))
  assert.ok(odd.length > 0)
  for (const i of odd) {
    const edits = [
      '(0008,0020)=' + ODD.StudyDate, '(0008,0030)=' + ODD.StudyTime, '(0008,0050)=' + ODD.AccessionNumber,
      '(0010,0010)=' + ODD.PatientName, '(0020,0011)=' + ODD.SeriesNumber, '(0008,0060)=' + ODD.Modality
    ]
    // dcmodify writes what it is told (-nb: no backup, +vr isn't needed: it does not check VR rules on -m).
    await run('dcmodify', ['-nb', '-ie', ...edits.flatMap((e) => ['-m', e]), i.path])
  }
  const node = await startDimseNode(t)
  for (const i of set.instances) await ingestFile(node.pacs, i.path, i.sopClassUid, i.sopInstanceUid)

  const syntaxes: Array<[string, string[]]> = [['implicit VR LE', ['-xi']], ['explicit VR LE', ['-xe']], ['explicit VR BE', ['-xb']]]
  for (const [name, flag] of syntaxes) {
    const r = await runTool(t, 'findscu', ['-v', '-S', ...flag, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientName=*', '-k', 'StudyDate', '-k', 'StudyTime', '-k', 'AccessionNumber', '-k', 'StudyInstanceUID',
      '-aet', 'FINDSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
    const out = parseFindscu(r.stdout + r.stderr)
    assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`)
    assert.equal(out.final, 'Success', `${name}: ${r.stdout}${r.stderr}`)
    assert.equal(out.matches.length, 3, `${name}: every study`)
    const oddMatch = out.matches.find((m) => m.get('StudyDate') === ODD.StudyDate)
    assert.ok(oddMatch !== undefined, `${name}: the odd study is there, its date as stored`)
    assert.equal(oddMatch.get('StudyTime'), ODD.StudyTime)
    assert.equal(oddMatch.get('AccessionNumber'), ODD.AccessionNumber)
    assert.equal(oddMatch.get('PatientName'), ODD.PatientName)
  }
  const series = await runTool(t, 'findscu', ['-v', '-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${odd[0]!.studyInstanceUid}`, '-k', 'SeriesNumber', '-k', 'Modality', '-k', 'SeriesInstanceUID',
    '-aet', 'FINDSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  const s = parseFindscu(series.stdout + series.stderr)
  assert.equal(s.final, 'Success', series.stdout + series.stderr)
  assert.ok(s.matches.length >= 1)
  // (The catalogue keeps Series Number as the number it could read from "A12"; Modality as stored.)
  assert.ok(s.matches.every((m) => m.has('SeriesNumber') && m.get('Modality') === ODD.Modality), series.stdout + series.stderr)
  assert.ok(!node.logs.some((l) => l.includes('"level":"error"')), 'no error logged')
})

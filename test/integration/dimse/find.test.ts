/**
 * C-FIND with dcmtk's findscu, Patient Root and Study Root, at every level: wildcards, date
 * ranges, universal matching, lists of UIDs; each response carries exactly the keys asked for
 * (unknown ones empty) with the catalogue's values; invalid keys and levels fail with a status.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import type { Pacs } from '../../../node/pacs/pacs.ts'
import { parseFindscu } from '../../helpers/dimse-findscu.ts'
import { NODE_AE, remote, runTool, startDimseNode } from '../../helpers/dimse-node.ts'
import { KNOWN_PATIENTS, syntheticStudy, type SyntheticInstance } from '../../synthetic/study.ts'

async function ingestAll (pacs: Pacs, instances: SyntheticInstance[]): Promise<void> {
  for (const i of instances) {
    const meta = parseFileMeta(i.bytes, i.bytes.length)!
    async function * dataset (): AsyncIterable<Uint8Array> { yield i.bytes.subarray(meta.metaEnd) }
    await pacs.ingestDataset(dataset(), { transferSyntaxUid: meta.transferSyntaxUid, sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })
  }
}

test('findscu at every level, both models, with wildcards, date ranges and universal matching', async (t) => {
  const node = await startDimseNode(t)
  const jane1 = syntheticStudy({ seed: 41, patient: KNOWN_PATIENTS[0]!, studyDate: '20240315', accessionNumber: 'ACCF1' })
  const jane2 = syntheticStudy({ seed: 42, patient: KNOWN_PATIENTS[0]!, studyDate: '20220505', accessionNumber: 'ACCF2' })
  const margot = syntheticStudy({ seed: 43, patient: KNOWN_PATIENTS[2]!, studyDate: '20230110', accessionNumber: 'ACCF3' })
  await ingestAll(node.pacs, [...jane1, ...jane2, ...margot])
  const findscu = async (model: '-S' | '-P', keys: string[], aet = 'FINDSCU'): Promise<ReturnType<typeof parseFindscu> & { out: string }> => {
    const r = await runTool(t, 'findscu', ['-v', model, ...keys.flatMap((k) => ['-k', k]), '-aet', aet, '-aec', NODE_AE, '127.0.0.1', String(node.port)])
    return { ...parseFindscu(r.stdout + r.stderr), out: r.stdout + r.stderr }
  }

  // STUDY level, Study Root: wildcard on the name, exactly the keys asked for.
  const studies = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'PatientName=ZZTEST*', 'StudyInstanceUID', 'StudyDate', 'AccessionNumber', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances', 'InstitutionName'])
  assert.equal(studies.final, 'Success', studies.out)
  assert.equal(studies.matches.length, 2)
  for (const m of studies.matches) {
    assert.deepEqual([...m.keys()].sort(), ['AccessionNumber', 'InstitutionName', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances', 'PatientName', 'QueryRetrieveLevel', 'StudyDate', 'StudyInstanceUID'])
    assert.equal(m.get('InstitutionName'), '', 'an attribute peerpacs does not keep comes back empty')
    assert.equal(m.get('QueryRetrieveLevel'), 'STUDY')
    assert.equal(m.get('PatientName'), KNOWN_PATIENTS[0]!.name)
  }
  const byAccession = new Map(studies.matches.map((m) => [m.get('AccessionNumber'), m]))
  assert.equal(byAccession.get('ACCF1')!.get('StudyInstanceUID'), jane1[0]!.studyInstanceUid)
  assert.equal(byAccession.get('ACCF1')!.get('NumberOfStudyRelatedInstances'), String(jane1.length))
  assert.equal(byAccession.get('ACCF1')!.get('ModalitiesInStudy'), [...new Set(jane1.map((i) => i.modality))].sort().join('\\'))

  // Date ranges: closed, open below, open above.
  const in2023 = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyDate=20230101-20231231', 'AccessionNumber'])
  assert.deepEqual(in2023.matches.map((m) => m.get('AccessionNumber')), ['ACCF3'])
  const before = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyDate=-20221231', 'AccessionNumber'])
  assert.deepEqual(before.matches.map((m) => m.get('AccessionNumber')), ['ACCF2'])
  const after = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyDate=20230110-', 'AccessionNumber'])
  assert.deepEqual(after.matches.map((m) => m.get('AccessionNumber')).sort(), ['ACCF1', 'ACCF3'])

  // Universal matching: every study.
  const all = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'SpecificCharacterSet'])
  assert.equal(all.matches.length, 3)
  assert.ok(all.matches.every((m) => m.has('SpecificCharacterSet')), 'Specific Character Set returned when asked')

  // PATIENT level, Patient Root.
  const patients = await findscu('-P', ['QueryRetrieveLevel=PATIENT', 'PatientID=PPX-*', 'PatientName', 'PatientBirthDate', 'NumberOfPatientRelatedStudies'])
  assert.equal(patients.final, 'Success', patients.out)
  const jane = patients.matches.find((m) => m.get('PatientID') === KNOWN_PATIENTS[0]!.id)!
  assert.equal(patients.matches.length, 2)
  assert.equal(jane.get('NumberOfPatientRelatedStudies'), '2')
  assert.equal(jane.get('PatientBirthDate'), KNOWN_PATIENTS[0]!.birthDate)

  // STUDY level under a patient, Patient Root.
  const margotStudies = await findscu('-P', ['QueryRetrieveLevel=STUDY', `PatientID=${KNOWN_PATIENTS[2]!.id}`, 'StudyInstanceUID'])
  assert.deepEqual(margotStudies.matches.map((m) => m.get('StudyInstanceUID')), [margot[0]!.studyInstanceUid])

  // SERIES level.
  const series = await findscu('-S', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${jane1[0]!.studyInstanceUid}`, 'SeriesInstanceUID', 'Modality', 'NumberOfSeriesRelatedInstances'])
  const expectedSeries = new Set(jane1.map((i) => i.seriesInstanceUid))
  assert.equal(series.matches.length, expectedSeries.size)
  for (const m of series.matches) {
    const uid = m.get('SeriesInstanceUID')!
    assert.ok(expectedSeries.has(uid))
    assert.equal(m.get('NumberOfSeriesRelatedInstances'), String(jane1.filter((i) => i.seriesInstanceUid === uid).length))
    assert.equal(m.get('Modality'), jane1.find((i) => i.seriesInstanceUid === uid)!.modality)
  }
  const ct = await findscu('-S', ['QueryRetrieveLevel=SERIES', 'Modality=C?', 'SeriesInstanceUID'])
  assert.ok(ct.matches.length >= 3, 'wildcard ? on a CS value')

  // IMAGE level, a list of UIDs.
  const two = jane1.slice(0, 2)
  const images = await findscu('-S', ['QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${jane1[0]!.studyInstanceUid}`, `SOPInstanceUID=${two.map((i) => i.sopInstanceUid).join('\\')}`, 'SOPClassUID', 'InstanceNumber'])
  assert.deepEqual(images.matches.map((m) => m.get('SOPInstanceUID')).sort(), two.map((i) => i.sopInstanceUid).sort())
  // findscu prints a SOP Class UID it knows by name (=CTImageStorage).
  assert.ok(images.matches.every((m) => /Storage$|^[\d.]+$/.test(m.get('SOPClassUID') ?? '')))

  // Failures: PATIENT level in Study Root, an invalid date, a missing level.
  const wrongLevel = await findscu('-S', ['QueryRetrieveLevel=PATIENT', 'PatientID'])
  assert.match(wrongLevel.final ?? '', /DataSetDoesNotMatchSOPClass|A900/i, wrongLevel.out)
  const badDate = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyDate=2024XX01'])
  assert.match(badDate.final ?? '', /Error|Failed|C000/i, badDate.out)
  assert.equal(badDate.matches.length, 0)
  const noLevel = await findscu('-S', ['PatientName=ZZ*'])
  assert.match(noLevel.final ?? '', /DataSetDoesNotMatchSOPClass|A900/i, noLevel.out)
})

test('a remote without the query permission cannot C-FIND', async (t) => {
  const node = await startDimseNode(t, { remotes: [remote('FINDSCU', { query: false })] })
  const r = await runTool(t, 'findscu', ['-v', '-S', '-k', 'QueryRetrieveLevel=STUDY', '-aet', 'FINDSCU', '-aec', NODE_AE, '127.0.0.1', String(node.port)])
  assert.notEqual(r.code, 0)
  assert.match(r.stdout + r.stderr, /No Acceptable Presentation Contexts|not accepted|refused/i)
})

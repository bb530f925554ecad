/**
 * The query engine over the study index (node/query/query.ts) answers exactly as the engine it
 * replaced, which grouped every instance of the catalogue at every query: seeded random
 * catalogues and queries at every level (wildcards, ranges, lists, keys below the level, counts,
 * limit and offset) are run by both, and the rows and totals must be equal. The reference below
 * is that engine, kept here as the specification.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ATTRIBUTES, BY_KEYWORD, levelRank, type AttributeValue, type CatalogInstance, type QueryLevel } from '../../../../node/query/attributes.ts'
import { checkKey, compileKey } from '../../../../node/query/match.ts'
import { memorySource } from '../../../../node/query/memory-source.ts'
import { runQuery, type QueryOptions, type QueryResult, type QueryRow } from '../../../../node/query/query.ts'

function reference (instances: readonly CatalogInstance[], level: QueryLevel, keys: Record<string, string>, options: QueryOptions = {}): QueryResult {
  const checks: Array<{ keyword: string, test: (v: AttributeValue | undefined) => boolean, of: ((i: CatalogInstance) => AttributeValue | undefined) | undefined, below: boolean }> = []
  for (const [keyword, key] of Object.entries(keys)) {
    const d = BY_KEYWORD.get(keyword)!
    checkKey(keyword, d.vr, key)
    if (key === '' || key === '*') continue
    checks.push({ keyword, test: compileKey(d.vr, key), of: d.of, below: levelRank(d.level) > levelRank(level) })
  }
  const groupKey = (i: CatalogInstance): string => level === 'PATIENT' ? `${i.patientId ?? ''}\u0000${i.patientName ?? ''}`
    : level === 'STUDY' ? i.studyInstanceUid : level === 'SERIES' ? i.seriesInstanceUid : i.sopInstanceUid
  const groups = new Map<string, CatalogInstance[]>()
  for (const i of instances) groups.set(groupKey(i), [...(groups.get(groupKey(i)) ?? []), i])
  const rows: QueryRow[] = []
  for (const group of groups.values()) {
    const row: QueryRow = {}
    for (const a of ATTRIBUTES) {
      if (levelRank(a.level) > levelRank(level)) continue
      if (a.over !== undefined && a.level !== level) continue
      const value = a.over !== undefined ? a.over(group) : a.of!(group[0]!)
      if (value !== undefined) row[a.keyword] = value
    }
    if (checks.every((c) => c.below ? group.some((i) => c.test(c.of?.(i))) : c.test(row[c.keyword]))) rows.push(row)
  }
  const s = (r: QueryRow, k: string): string => String(r[k] ?? '')
  const n = (r: QueryRow, k: string): number => Number(r[k] ?? 0)
  rows.sort((a, b) => level === 'PATIENT' ? s(a, 'PatientName').localeCompare(s(b, 'PatientName')) || s(a, 'PatientID').localeCompare(s(b, 'PatientID'))
    : level === 'STUDY' ? s(b, 'StudyDate').localeCompare(s(a, 'StudyDate')) || s(a, 'StudyInstanceUID').localeCompare(s(b, 'StudyInstanceUID'))
      : level === 'SERIES' ? n(a, 'SeriesNumber') - n(b, 'SeriesNumber') || s(a, 'SeriesInstanceUID').localeCompare(s(b, 'SeriesInstanceUID'))
        : n(a, 'InstanceNumber') - n(b, 'InstanceNumber') || s(a, 'SOPInstanceUID').localeCompare(s(b, 'SOPInstanceUID')))
  const offset = Math.max(0, options.offset ?? 0)
  return { rows: rows.slice(offset, options.limit === undefined ? undefined : offset + options.limit), total: rows.length }
}

/** A small deterministic generator (mulberry32). */
function rng (seed: number): { int: (lo: number, hi: number) => number, pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  return { int, pick: (xs) => xs[int(0, xs.length - 1)]! }
}

const MODALITIES = ['CT', 'MR', 'US', 'SR', 'PR']
const CLASSES = ['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.88.22']
const SYNTAXES = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2.4.50']

function catalogue (seed: number): CatalogInstance[] {
  const r = rng(seed)
  const out: CatalogInstance[] = []
  const patients = Array.from({ length: 8 }, (_, p) => ({ patientName: `ZZ${'ABCD'[p % 4]}^P${p}`, patientId: `PID${p % 6}`, patientSex: r.pick(['F', 'M', 'O']), patientBirthDate: `19${r.int(40, 99)}0101` }))
  for (let s = 0; s < 30; s++) {
    const patient = r.pick(patients)
    const study = { ...patient, studyInstanceUid: `1.2.9.${seed}.${s}`, studyDate: `20${r.int(10, 24)}0${r.int(1, 9)}1${r.int(0, 9)}`, studyTime: `1${r.int(0, 9)}3000`, accessionNumber: `ACC${r.int(1, 40)}`, studyDescription: r.pick(['HEAD', 'CHEST', 'ABDOMEN']), studyId: `S${s}` }
    const storedIn = `${seed}`.padStart(16, '0') + `${s}`.padStart(16, '0')
    for (let k = 0; k < r.int(1, 3); k++) {
      const series = { seriesInstanceUid: `${study.studyInstanceUid}.${k + 1}`, modality: r.pick(MODALITIES), seriesNumber: r.int(1, 4), seriesDescription: r.pick(['AX', 'COR', 'SAG']), bodyPartExamined: r.pick(['HEAD', 'CHEST']) }
      const sopClassUid = r.pick(CLASSES)
      for (let i = 0; i < r.int(1, 4); i++) {
        out.push({ ...study, ...series, storedIn, sopClassUid, transferSyntaxUid: r.pick(SYNTAXES), sopInstanceUid: `${series.seriesInstanceUid}.${i + 1}`, instanceNumber: r.int(1, 9), rows: 64, columns: 64 } as unknown as CatalogInstance)
      }
    }
  }
  return out
}

function randomKeys (seed: number, instances: readonly CatalogInstance[]): Record<string, string> {
  const r = rng(seed)
  const one = r.pick(instances)
  const pool: Array<[string, string]> = [
    ['PatientName', r.pick(['ZZA*', 'zzb^p1', '*P3', 'ZZ?^P*', ''])],
    ['PatientID', r.pick(['PID1', 'PID2\\PID3', ''])],
    ['PatientSex', r.pick(['F', 'M'])],
    ['StudyDate', r.pick(['20150101-', '-20180101', '20120101-20201231', one.studyDate ?? ''])],
    ['StudyInstanceUID', r.pick([one.studyInstanceUid, `${one.studyInstanceUid}\\${r.pick(instances).studyInstanceUid}`, ''])],
    ['AccessionNumber', r.pick(['ACC1*', 'ACC?', ''])],
    ['StudyDescription', r.pick(['HEAD', 'C*'])],
    ['StudyID', r.pick(['S1*', one.studyId ?? ''])],
    ['ModalitiesInStudy', r.pick(['CT', 'MR\\US', 'SR'])],
    ['SOPClassesInStudy', r.pick(CLASSES)],
    ['NumberOfStudyRelatedInstances', String(r.int(1, 6))],
    ['NumberOfStudyRelatedSeries', String(r.int(1, 3))],
    ['NumberOfPatientRelatedStudies', String(r.int(1, 4))],
    ['Modality', r.pick(['CT', 'MR\\PR', 'C*'])],
    ['SeriesInstanceUID', r.pick([one.seriesInstanceUid, ''])],
    ['SeriesDescription', r.pick(['AX', 'C*'])],
    ['SeriesNumber', String(r.int(1, 4))],
    ['BodyPartExamined', r.pick(['HEAD', 'CH*'])],
    ['NumberOfSeriesRelatedInstances', String(r.int(1, 4))],
    ['SOPInstanceUID', r.pick([one.sopInstanceUid, `${one.sopInstanceUid}\\${r.pick(instances).sopInstanceUid}`, '1.2.3.4'])],
    ['SOPClassUID', r.pick(CLASSES)],
    ['InstanceNumber', String(r.int(1, 9))],
    ['AvailableTransferSyntaxUID', r.pick(SYNTAXES)]
  ]
  const keys: Record<string, string> = {}
  for (let n = r.int(0, 3); n > 0; n--) {
    const [k, v] = r.pick(pool)
    keys[k] = v
  }
  return keys
}

test('queries over the study index answer as the engine that grouped every instance did', async () => {
  let compared = 0
  let nonEmpty = 0
  const levels: QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE']
  for (let c = 1; c <= 6; c++) {
    const instances = catalogue(c)
    const source = memorySource(instances)
    for (let q = 0; q < 400; q++) {
      const seed = c * 1000 + q
      const level = levels[q % 4]!
      const keys = randomKeys(seed, instances)
      const r = rng(seed)
      const options: QueryOptions = r.int(0, 2) === 0 ? { limit: r.int(0, 5), offset: r.int(0, 4) } : {}
      const expected = reference(instances, level, keys, options)
      const actual = await runQuery(source, level, keys, options)
      assert.deepEqual(actual, expected, `catalogue ${c}, ${level} ${JSON.stringify(keys)} ${JSON.stringify(options)}`)
      compared++
      if (expected.total > 0) nonEmpty++
    }
  }
  // Not a vacuous comparison: most queries must have matched something.
  assert.ok(nonEmpty > compared / 3, `${nonEmpty} of ${compared} queries matched anything`)
})

test('a broad query with a limit holds only the rows it answers, and pages agree with the whole', async () => {
  const instances = Array.from({ length: 5000 }, (_, n) => ({
    storedIn: String(n).padStart(32, '0'), studyInstanceUid: `1.2.7.${n}`, seriesInstanceUid: `1.2.7.${n}.1`, sopInstanceUid: `1.2.7.${n}.1.1`,
    sopClassUid: CLASSES[0], transferSyntaxUid: SYNTAXES[0], modality: 'CT', patientName: `ZZ^P${n % 300}`, patientId: `P${n % 300}`, studyDate: `20${String(10 + n % 15)}0101`
  }) as unknown as CatalogInstance)
  const source = memorySource(instances)
  const whole = await runQuery(source, 'STUDY', {})
  assert.equal(whole.total, 5000)
  for (const [offset, limit] of [[0, 10], [2990, 20], [4995, 10], [0, 0]] as const) {
    const page = await runQuery(source, 'STUDY', {}, { offset, limit })
    assert.equal(page.total, 5000)
    assert.deepEqual(page.rows, whole.rows.slice(offset, offset + limit))
  }
  const patients = await runQuery(source, 'PATIENT', { PatientName: 'ZZ^P1*' }, { limit: 5 })
  assert.equal(patients.total, 111)
  assert.equal(patients.rows[0]!.NumberOfPatientRelatedStudies, 17)
})

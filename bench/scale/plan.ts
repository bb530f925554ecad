/**
 * The synthetic archive of `npm run bench:scale`, as a pure plan: study i of S is fully
 * determined by (i, S, N), so the generator writes it and the query bench knows, without
 * reading anything back, which studies each query should answer.
 *
 * - Patients: one per study, surnames in families `ZZ<AAA>SON` of about 100 studies each, so
 *   `PatientName=ZZAAASON*` answers ~100 studies at every size.
 * - Dates: spread evenly over 2000-01-01..2024-12-31 in study order; a date range is chosen
 *   to cover 100 consecutive studies.
 * - Modalities: every `step`-th study is MG (~100 studies at every size), the others rotate
 *   through CT, MR, CR, US, DX; every series of a study has the study's modality.
 * - Instances: N spread over S studies (~20 each by default), in 2–4 series per study.
 */

const DAY = 86_400_000
const FIRST_DAY = Date.UTC(2000, 0, 1)
const DAYS = (Date.UTC(2024, 11, 31) - FIRST_DAY) / DAY + 1
const ROTATION = ['CT', 'MR', 'CR', 'US', 'DX'] as const
export const RARE_MODALITY = 'MG'
/** How many studies the selective queries aim at. */
export const TARGET_MATCHES = 100

export interface StudyPlan {
  readonly index: number
  readonly patientName: string
  readonly patientId: string
  readonly studyDate: string
  readonly accessionNumber: string
  readonly modality: string
  /** Instances in each series, in series order. */
  readonly series: readonly number[]
}

export interface ArchiveShape { readonly instances: number, readonly studies: number }

function family (i: number, shape: ArchiveShape): number {
  return i % Math.max(1, Math.ceil(shape.studies / TARGET_MATCHES))
}

function surname (code: number): string {
  const letter = (n: number): string => String.fromCharCode(65 + n)
  return `ZZ${letter(Math.floor(code / 676) % 26)}${letter(Math.floor(code / 26) % 26)}${letter(code % 26)}SON`
}

function date (i: number, shape: ArchiveShape): string {
  return new Date(FIRST_DAY + Math.floor(i * DAYS / shape.studies) * DAY).toISOString().slice(0, 10).replaceAll('-', '')
}

function modality (i: number, shape: ArchiveShape): string {
  const step = Math.max(1, Math.round(shape.studies / TARGET_MATCHES))
  return i % step === 1 % step ? RARE_MODALITY : ROTATION[i % ROTATION.length]!
}

export function checkShape (shape: ArchiveShape): void {
  if (!Number.isSafeInteger(shape.studies) || shape.studies < 1) throw new RangeError(`studies: a positive integer expected, got ${shape.studies}`)
  if (!Number.isSafeInteger(shape.instances) || shape.instances < shape.studies) throw new RangeError(`instances: an integer ≥ studies (${shape.studies}) expected, got ${shape.instances}`)
  if (shape.studies > 26 ** 3 * TARGET_MATCHES) throw new RangeError(`studies: at most ${26 ** 3 * TARGET_MATCHES}, got ${shape.studies}`)
}

export function studyPlan (i: number, shape: ArchiveShape): StudyPlan {
  const count = Math.floor(shape.instances / shape.studies) + (i < shape.instances % shape.studies ? 1 : 0)
  const seriesCount = Math.min(count, 2 + (i % 3))
  const series = Array.from({ length: seriesCount }, (_, s) => Math.floor(count / seriesCount) + (s < count % seriesCount ? 1 : 0))
  return {
    index: i,
    patientName: `${surname(family(i, shape))}^P${i}`,
    patientId: `SCALE-${i}`,
    studyDate: date(i, shape),
    accessionNumber: `SCA${i}`,
    modality: modality(i, shape),
    series
  }
}

export interface QueryPlan {
  readonly name: string
  /** DICOM keyword → value, as findscu -k and QIDO-RS take them. */
  readonly keys: Readonly<Record<string, string>>
  readonly expected: number
}

function count (shape: ArchiveShape, test: (plan: StudyPlan) => boolean): number {
  let n = 0
  for (let i = 0; i < shape.studies; i++) if (test(studyPlan(i, shape))) n++
  return n
}

/** The study-level queries: three selective ones (~100 answers) and a wide one (`wide` answers or all). */
export function studyQueries (shape: ArchiveShape, wide: number): QueryPlan[] {
  const name = surname(0)
  const from = Math.max(0, Math.floor(shape.studies / 2) - TARGET_MATCHES / 2)
  const to = Math.min(shape.studies, from + TARGET_MATCHES) - 1
  const range = `${date(from, shape)}-${date(to, shape)}`
  const inRange = (d: string): boolean => d >= date(from, shape) && d <= date(to, shape)
  const wideTo = Math.min(shape.studies, wide) - 1
  const wideRange = `${date(0, shape)}-${date(wideTo, shape)}`
  return [
    { name: 'patient-name wildcard', keys: { PatientName: `${name}*` }, expected: count(shape, (p) => p.patientName.startsWith(name)) },
    { name: 'date range', keys: { StudyDate: range }, expected: count(shape, (p) => inRange(p.studyDate)) },
    { name: 'modality', keys: { ModalitiesInStudy: RARE_MODALITY }, expected: count(shape, (p) => p.modality === RARE_MODALITY) },
    { name: 'wide (per-response cost)', keys: { StudyDate: wideRange }, expected: count(shape, (p) => p.studyDate <= date(wideTo, shape)) }
  ]
}

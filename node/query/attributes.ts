/**
 * The attributes peerpacs can match and return in C-FIND and QIDO-RS, by DICOM keyword, with
 * their tag, VR and query level. They are the ones the catalogue keeps for every instance
 * (index-layout.ts), plus the counts and lists computed over a study or series (PS3.4 C.3.4,
 * PS3.18 Table 10.6.1-5). Patient and study attributes are also read from the compact study
 * entry the query index holds in memory (`study`, study-index.ts), so study-level queries never
 * open an instance record.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import type { InstanceAttributes, StudyAttributes } from '../archive/index-layout.ts'

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE'
export const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE']

/**
 * One instance as the query engine sees it: its sealed attributes, opened, and the opaque id of
 * the study it is stored under (`studyId` is the DICOM StudyID, 0020,0010).
 */
export interface CatalogInstance extends InstanceAttributes {
  readonly storedIn: StudyId
}

/**
 * One study in the compact in-memory index (study-index.ts): its study record's attributes and
 * what is computed over its instances. Arrays are sorted, distinct and shared between studies
 * that have the same ones.
 */
export interface StudyEntry {
  readonly storedIn: StudyId
  readonly attributes: StudyAttributes
  readonly modalities: readonly string[]
  readonly sopClasses: readonly string[]
  readonly series: readonly string[]
  readonly instances: number
}

export type AttributeValue = string | number | readonly string[]

export interface AttributeDefinition {
  readonly keyword: string
  /** 8 hex digits, upper case, as in DICOM JSON. */
  readonly tag: string
  readonly vr: string
  readonly level: QueryLevel
  /** Taken from one instance of the group (level attributes are the same on all of them). */
  readonly of?: (instance: CatalogInstance) => string | number | undefined
  /** Computed over the instances of the group (counts, lists). */
  readonly over?: (instances: readonly CatalogInstance[]) => AttributeValue
  /** Patient and study attributes: read from a study's compact entry. */
  readonly study?: (entry: StudyEntry) => AttributeValue | undefined
  /** Patient-level counts: computed over the study entries of one patient. */
  readonly patient?: (entries: readonly StudyEntry[]) => number
  /** Series and instance attributes a study entry lists (distinct values over its instances). */
  readonly anyInStudy?: (entry: StudyEntry) => readonly string[]
}

const distinct = (instances: readonly CatalogInstance[], pick: (i: CatalogInstance) => string | undefined): string[] =>
  [...new Set(instances.map(pick).filter((v): v is string => v !== undefined && v !== ''))].sort()

export const ATTRIBUTES: readonly AttributeDefinition[] = [
  { keyword: 'PatientName', tag: '00100010', vr: 'PN', level: 'PATIENT', of: (i) => i.patientName, study: (e) => e.attributes.patientName },
  { keyword: 'PatientID', tag: '00100020', vr: 'LO', level: 'PATIENT', of: (i) => i.patientId, study: (e) => e.attributes.patientId },
  { keyword: 'PatientBirthDate', tag: '00100030', vr: 'DA', level: 'PATIENT', of: (i) => i.patientBirthDate, study: (e) => e.attributes.patientBirthDate },
  { keyword: 'PatientSex', tag: '00100040', vr: 'CS', level: 'PATIENT', of: (i) => i.patientSex, study: (e) => e.attributes.patientSex },
  { keyword: 'NumberOfPatientRelatedStudies', tag: '00201200', vr: 'IS', level: 'PATIENT', over: (x) => distinct(x, (i) => i.studyInstanceUid).length, patient: (x) => x.length },
  { keyword: 'NumberOfPatientRelatedSeries', tag: '00201202', vr: 'IS', level: 'PATIENT', over: (x) => distinct(x, (i) => i.seriesInstanceUid).length, patient: (x) => x.reduce((n, e) => n + e.series.length, 0) },
  { keyword: 'NumberOfPatientRelatedInstances', tag: '00201204', vr: 'IS', level: 'PATIENT', over: (x) => x.length, patient: (x) => x.reduce((n, e) => n + e.instances, 0) },
  { keyword: 'StudyInstanceUID', tag: '0020000D', vr: 'UI', level: 'STUDY', of: (i) => i.studyInstanceUid, study: (e) => e.attributes.studyInstanceUid },
  { keyword: 'StudyDate', tag: '00080020', vr: 'DA', level: 'STUDY', of: (i) => i.studyDate, study: (e) => e.attributes.studyDate },
  { keyword: 'StudyTime', tag: '00080030', vr: 'TM', level: 'STUDY', of: (i) => i.studyTime, study: (e) => e.attributes.studyTime },
  { keyword: 'AccessionNumber', tag: '00080050', vr: 'SH', level: 'STUDY', of: (i) => i.accessionNumber, study: (e) => e.attributes.accessionNumber },
  { keyword: 'ReferringPhysicianName', tag: '00080090', vr: 'PN', level: 'STUDY', of: (i) => i.referringPhysicianName, study: (e) => e.attributes.referringPhysicianName },
  { keyword: 'StudyDescription', tag: '00081030', vr: 'LO', level: 'STUDY', of: (i) => i.studyDescription, study: (e) => e.attributes.studyDescription },
  { keyword: 'StudyID', tag: '00200010', vr: 'SH', level: 'STUDY', of: (i) => i.studyId, study: (e) => e.attributes.studyId },
  { keyword: 'ModalitiesInStudy', tag: '00080061', vr: 'CS', level: 'STUDY', over: (x) => distinct(x, (i) => i.modality), study: (e) => e.modalities },
  { keyword: 'SOPClassesInStudy', tag: '00080062', vr: 'UI', level: 'STUDY', over: (x) => distinct(x, (i) => i.sopClassUid), study: (e) => e.sopClasses },
  { keyword: 'NumberOfStudyRelatedSeries', tag: '00201206', vr: 'IS', level: 'STUDY', over: (x) => distinct(x, (i) => i.seriesInstanceUid).length, study: (e) => e.series.length },
  { keyword: 'NumberOfStudyRelatedInstances', tag: '00201208', vr: 'IS', level: 'STUDY', over: (x) => x.length, study: (e) => e.instances },
  { keyword: 'SeriesInstanceUID', tag: '0020000E', vr: 'UI', level: 'SERIES', of: (i) => i.seriesInstanceUid, anyInStudy: (e) => e.series },
  { keyword: 'Modality', tag: '00080060', vr: 'CS', level: 'SERIES', of: (i) => i.modality, anyInStudy: (e) => e.modalities },
  { keyword: 'SeriesNumber', tag: '00200011', vr: 'IS', level: 'SERIES', of: (i) => i.seriesNumber },
  { keyword: 'SeriesDescription', tag: '0008103E', vr: 'LO', level: 'SERIES', of: (i) => i.seriesDescription },
  { keyword: 'BodyPartExamined', tag: '00180015', vr: 'CS', level: 'SERIES', of: (i) => i.bodyPartExamined },
  { keyword: 'NumberOfSeriesRelatedInstances', tag: '00201209', vr: 'IS', level: 'SERIES', over: (x) => x.length },
  { keyword: 'SOPInstanceUID', tag: '00080018', vr: 'UI', level: 'IMAGE', of: (i) => i.sopInstanceUid },
  { keyword: 'SOPClassUID', tag: '00080016', vr: 'UI', level: 'IMAGE', of: (i) => i.sopClassUid, anyInStudy: (e) => e.sopClasses },
  { keyword: 'InstanceNumber', tag: '00200013', vr: 'IS', level: 'IMAGE', of: (i) => i.instanceNumber },
  { keyword: 'NumberOfFrames', tag: '00280008', vr: 'IS', level: 'IMAGE', of: (i) => i.numberOfFrames },
  { keyword: 'Rows', tag: '00280010', vr: 'US', level: 'IMAGE', of: (i) => i.rows },
  { keyword: 'Columns', tag: '00280011', vr: 'US', level: 'IMAGE', of: (i) => i.columns },
  { keyword: 'AvailableTransferSyntaxUID', tag: '00083002', vr: 'UI', level: 'IMAGE', of: (i) => i.transferSyntaxUid }
]

export const BY_KEYWORD: ReadonlyMap<string, AttributeDefinition> = new Map(ATTRIBUTES.map((a) => [a.keyword, a]))
export const BY_TAG: ReadonlyMap<string, AttributeDefinition> = new Map(ATTRIBUTES.map((a) => [a.tag, a]))

/** The unique key of each level (PS3.4 C.2.2.1). */
export const UNIQUE_KEY: Readonly<Record<QueryLevel, string>> = {
  PATIENT: 'PatientID', STUDY: 'StudyInstanceUID', SERIES: 'SeriesInstanceUID', IMAGE: 'SOPInstanceUID'
}

export function levelRank (level: QueryLevel): number { return LEVELS.indexOf(level) }

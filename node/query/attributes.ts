/**
 * The attributes peerpacs can match and return in C-FIND and QIDO-RS, by DICOM keyword, with
 * their tag, VR and query level. They are the ones the catalogue keeps for every instance
 * (index-layout.ts), plus the counts and lists computed over a study or series (PS3.4 C.3.4,
 * PS3.18 Table 10.6.1-5).
 */
import type { StudyId } from '../../protocol/study-id.ts'
import type { InstanceAttributes } from '../archive/index-layout.ts'

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE'
export const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE']

/** One instance as the query engine sees it: its sealed attributes, opened, and its study's id. */
export interface CatalogInstance extends InstanceAttributes {
  readonly studyId: StudyId
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
}

const distinct = (instances: readonly CatalogInstance[], pick: (i: CatalogInstance) => string | undefined): string[] =>
  [...new Set(instances.map(pick).filter((v): v is string => v !== undefined && v !== ''))].sort()

export const ATTRIBUTES: readonly AttributeDefinition[] = [
  { keyword: 'PatientName', tag: '00100010', vr: 'PN', level: 'PATIENT', of: (i) => i.patientName },
  { keyword: 'PatientID', tag: '00100020', vr: 'LO', level: 'PATIENT', of: (i) => i.patientId },
  { keyword: 'PatientBirthDate', tag: '00100030', vr: 'DA', level: 'PATIENT', of: (i) => i.patientBirthDate },
  { keyword: 'PatientSex', tag: '00100040', vr: 'CS', level: 'PATIENT', of: (i) => i.patientSex },
  { keyword: 'NumberOfPatientRelatedStudies', tag: '00201200', vr: 'IS', level: 'PATIENT', over: (x) => distinct(x, (i) => i.studyInstanceUid).length },
  { keyword: 'NumberOfPatientRelatedSeries', tag: '00201202', vr: 'IS', level: 'PATIENT', over: (x) => distinct(x, (i) => i.seriesInstanceUid).length },
  { keyword: 'NumberOfPatientRelatedInstances', tag: '00201204', vr: 'IS', level: 'PATIENT', over: (x) => x.length },
  { keyword: 'StudyInstanceUID', tag: '0020000D', vr: 'UI', level: 'STUDY', of: (i) => i.studyInstanceUid },
  { keyword: 'StudyDate', tag: '00080020', vr: 'DA', level: 'STUDY', of: (i) => i.studyDate },
  { keyword: 'StudyTime', tag: '00080030', vr: 'TM', level: 'STUDY', of: (i) => i.studyTime },
  { keyword: 'AccessionNumber', tag: '00080050', vr: 'SH', level: 'STUDY', of: (i) => i.accessionNumber },
  { keyword: 'ReferringPhysicianName', tag: '00080090', vr: 'PN', level: 'STUDY', of: (i) => i.referringPhysicianName },
  { keyword: 'StudyDescription', tag: '00081030', vr: 'LO', level: 'STUDY', of: (i) => i.studyDescription },
  { keyword: 'StudyID', tag: '00200010', vr: 'SH', level: 'STUDY', of: (i) => i.studyId },
  { keyword: 'ModalitiesInStudy', tag: '00080061', vr: 'CS', level: 'STUDY', over: (x) => distinct(x, (i) => i.modality) },
  { keyword: 'SOPClassesInStudy', tag: '00080062', vr: 'UI', level: 'STUDY', over: (x) => distinct(x, (i) => i.sopClassUid) },
  { keyword: 'NumberOfStudyRelatedSeries', tag: '00201206', vr: 'IS', level: 'STUDY', over: (x) => distinct(x, (i) => i.seriesInstanceUid).length },
  { keyword: 'NumberOfStudyRelatedInstances', tag: '00201208', vr: 'IS', level: 'STUDY', over: (x) => x.length },
  { keyword: 'SeriesInstanceUID', tag: '0020000E', vr: 'UI', level: 'SERIES', of: (i) => i.seriesInstanceUid },
  { keyword: 'Modality', tag: '00080060', vr: 'CS', level: 'SERIES', of: (i) => i.modality },
  { keyword: 'SeriesNumber', tag: '00200011', vr: 'IS', level: 'SERIES', of: (i) => i.seriesNumber },
  { keyword: 'SeriesDescription', tag: '0008103E', vr: 'LO', level: 'SERIES', of: (i) => i.seriesDescription },
  { keyword: 'BodyPartExamined', tag: '00180015', vr: 'CS', level: 'SERIES', of: (i) => i.bodyPartExamined },
  { keyword: 'NumberOfSeriesRelatedInstances', tag: '00201209', vr: 'IS', level: 'SERIES', over: (x) => x.length },
  { keyword: 'SOPInstanceUID', tag: '00080018', vr: 'UI', level: 'IMAGE', of: (i) => i.sopInstanceUid },
  { keyword: 'SOPClassUID', tag: '00080016', vr: 'UI', level: 'IMAGE', of: (i) => i.sopClassUid },
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

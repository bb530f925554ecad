/**
 * The DICOM audit vocabulary (PS3.15 Annex A.5, which IHE ATNA uses): the codes an audit record
 * may carry, with the display names the exports print. Codes are numbers here; every DICOM code
 * ("DCM" coding scheme, PS3.16) is ≥ 110000 and every RFC 3881 / schema enumeration is < 100, so
 * a number never means two things. Checked against PS3.15 A.5.1 (the audit message schema),
 * A.5.3 (the DICOM specific audit messages) and PS3.16 CIDs 400–405.
 */
import { InvalidArgumentError } from '../errors.ts'

/** Audit event ids, PS3.16 CID 400 "Audit Event ID" (one per message of PS3.15 A.5.3). */
export const EVENT_ID = {
  applicationActivity: 110100,
  auditLogUsed: 110101,
  beginTransferring: 110102,
  instancesAccessed: 110103,
  instancesTransferred: 110104,
  studyDeleted: 110105,
  export: 110106,
  import: 110107,
  networkEntry: 110108,
  orderRecord: 110109,
  patientRecord: 110110,
  procedureRecord: 110111,
  query: 110112,
  securityAlert: 110113,
  userAuthentication: 110114
} as const
export type EventId = typeof EVENT_ID[keyof typeof EVENT_ID]

/** Event type codes, PS3.16 CID 401 (application activity, authentication, network entry) and CID 403 (security alert). */
export const EVENT_TYPE = {
  applicationStart: 110120,
  applicationStop: 110121,
  login: 110122,
  logout: 110123,
  attach: 110124,
  detach: 110125,
  nodeAuthentication: 110126,
  emergencyOverrideStarted: 110127,
  networkConfiguration: 110128,
  securityConfiguration: 110129,
  hardwareConfiguration: 110130,
  softwareConfiguration: 110131,
  useOfRestrictedFunction: 110132,
  auditRecordingStopped: 110133,
  auditRecordingStarted: 110134,
  objectSecurityAttributesChanged: 110135,
  securityRolesChanged: 110136,
  userSecurityAttributesChanged: 110137,
  emergencyOverrideStopped: 110138,
  remoteServiceOperationStarted: 110139,
  remoteServiceOperationStopped: 110140,
  localServiceOperationStarted: 110141,
  localServiceOperationStopped: 110142
} as const
export type EventTypeCode = typeof EVENT_TYPE[keyof typeof EVENT_TYPE]

/** Active participant role ids, PS3.16 CID 402 "Audit Active Participant Role ID Code". */
export const ROLE_ID = {
  application: 110150,
  applicationLauncher: 110151,
  destination: 110152,
  source: 110153,
  destinationMedia: 110154,
  sourceMedia: 110155
} as const
export type RoleIdCode = typeof ROLE_ID[keyof typeof ROLE_ID]

/** Media types of a media participant (MediaIdentifier/MediaType), PS3.16 CID 405 "Media Type Code". */
export const MEDIA_TYPE = {
  film: 110010,
  usbDiskEmulation: 110030,
  email: 110031,
  cd: 110032,
  dvd: 110033,
  compactFlash: 110034,
  multiMediaCard: 110035,
  secureDigitalCard: 110036,
  uri: 110037,
  paperDocument: 110038
} as const
export type MediaTypeCode = typeof MEDIA_TYPE[keyof typeof MEDIA_TYPE]

/** Participant object id types: RFC 3881 values 1–12 (PS3.15 A.5.1.2.4) and PS3.16 CID 404 (DCM). */
export const ID_TYPE = {
  medicalRecordNumber: 1,
  patientNumber: 2,
  encounterNumber: 3,
  enrolleeNumber: 4,
  socialSecurityNumber: 5,
  accountNumber: 6,
  guarantorNumber: 7,
  reportName: 8,
  reportNumber: 9,
  searchCriteria: 10,
  userIdentifier: 11,
  uri: 12,
  studyInstanceUid: 110180,
  sopClassUid: 110181,
  nodeId: 110182
} as const
export type IdTypeCode = typeof ID_TYPE[keyof typeof ID_TYPE]

/** EventActionCode, PS3.15 A.5.1 and A.5.2. */
export const ACTIONS = ['C', 'R', 'U', 'D', 'E'] as const
export type ActionCode = typeof ACTIONS[number]

/** EventOutcomeIndicator, PS3.15 A.5.1 and A.5.2. */
export const OUTCOME = { success: 0, minorFailure: 4, seriousFailure: 8, majorFailure: 12 } as const
export type Outcome = typeof OUTCOME[keyof typeof OUTCOME]

/** NetworkAccessPointTypeCode, PS3.15 A.5.1. */
export const NETWORK_ACCESS_POINT = { machineName: 1, ipAddress: 2, telephoneNumber: 3, emailAddress: 4, uri: 5 } as const
export type NetworkAccessPointType = typeof NETWORK_ACCESS_POINT[keyof typeof NETWORK_ACCESS_POINT]

/** ParticipantObjectTypeCode, PS3.15 A.5.1. */
export const OBJECT_TYPE = { person: 1, systemObject: 2, organization: 3, other: 4 } as const
export type ObjectTypeCode = typeof OBJECT_TYPE[keyof typeof OBJECT_TYPE]

/** ParticipantObjectTypeCodeRole, PS3.15 A.5.1.2.2 (not extensible; 25 and 26 are the newest). */
export const OBJECT_ROLE = {
  patient: 1,
  location: 2,
  report: 3,
  resource: 4,
  masterFile: 5,
  user: 6,
  list: 7,
  doctor: 8,
  subscriber: 9,
  guarantor: 10,
  securityUserEntity: 11,
  securityUserGroup: 12,
  securityResource: 13,
  securityGranularityDefinition: 14,
  provider: 15,
  dataDestination: 16,
  dataRepository: 17,
  schedule: 18,
  customer: 19,
  job: 20,
  jobStream: 21,
  table: 22,
  routingCriteria: 23,
  query: 24,
  dataSource: 25,
  processingElement: 26
} as const
export type ObjectRoleCode = typeof OBJECT_ROLE[keyof typeof OBJECT_ROLE]

/** AuditSourceTypeCode, PS3.15 A.5.1.2.1. A peerpacs node is 4 (application server process). */
export const SOURCE_TYPE = {
  endUserInterface: 1,
  dataAcquisitionDevice: 2,
  webServerProcess: 3,
  applicationServerProcess: 4,
  databaseServerProcess: 5,
  securityServer: 6,
  networkComponent: 7,
  operatingSoftware: 8,
  other: 9
} as const
export type SourceTypeCode = typeof SOURCE_TYPE[keyof typeof SOURCE_TYPE]

// ---- Display names (the code meanings of PS3.16 and the value tables of PS3.15 A.5.1.2) ----

const DCM_NAMES: ReadonlyMap<number, string> = new Map([
  [110100, 'Application Activity'],
  [110101, 'Audit Log Used'],
  [110102, 'Begin Transferring DICOM Instances'],
  [110103, 'DICOM Instances Accessed'],
  [110104, 'DICOM Instances Transferred'],
  [110105, 'DICOM Study Deleted'],
  [110106, 'Export'],
  [110107, 'Import'],
  [110108, 'Network Entry'],
  [110109, 'Order Record'],
  [110110, 'Patient Record'],
  [110111, 'Procedure Record'],
  [110112, 'Query'],
  [110113, 'Security Alert'],
  [110114, 'User Authentication'],
  [110120, 'Application Start'],
  [110121, 'Application Stop'],
  [110122, 'Login'],
  [110123, 'Logout'],
  [110124, 'Attach'],
  [110125, 'Detach'],
  [110126, 'Node Authentication'],
  [110127, 'Emergency Override Started'],
  [110128, 'Network Configuration'],
  [110129, 'Security Configuration'],
  [110130, 'Hardware Configuration'],
  [110131, 'Software Configuration'],
  [110132, 'Use of Restricted Function'],
  [110133, 'Audit Recording Stopped'],
  [110134, 'Audit Recording Started'],
  [110135, 'Object Security Attributes Changed'],
  [110136, 'Security Roles Changed'],
  [110137, 'User security Attributes Changed'],
  [110138, 'Emergency Override Stopped'],
  [110139, 'Remote Service Operation Started'],
  [110140, 'Remote Service Operation Stopped'],
  [110141, 'Local Service Operation Started'],
  [110142, 'Local Service Operation Stopped'],
  [110150, 'Application'],
  [110151, 'Application Launcher'],
  [110152, 'Destination Role ID'],
  [110153, 'Source Role ID'],
  [110154, 'Destination Media'],
  [110155, 'Source Media'],
  [110010, 'Film'],
  [110030, 'USB Disk Emulation'],
  [110031, 'Email'],
  [110032, 'CD'],
  [110033, 'DVD'],
  [110034, 'Compact Flash'],
  [110035, 'Multi-media Card'],
  [110036, 'Secure Digital Card'],
  [110037, 'URI'],
  [110038, 'Paper Document'],
  [110180, 'Study Instance UID'],
  [110181, 'SOP Class UID'],
  [110182, 'Node ID']
])

const RFC3881_ID_TYPE_NAMES = ['Medical Record Number', 'Patient Number', 'Encounter Number', 'Enrollee Number',
  'Social Security Number', 'Account Number', 'Guarantor Number', 'Report Name', 'Report Number',
  'Search Criteria', 'User Identifier', 'URI']

const OBJECT_ROLE_NAMES = ['Patient', 'Location', 'Report', 'Resource', 'Master File', 'User', 'List', 'Doctor',
  'Subscriber', 'Guarantor', 'Security User Entity', 'Security User Group', 'Security Resource',
  'Security Granularity Definition', 'Provider', 'Data Destination', 'Data Repository', 'Schedule', 'Customer',
  'Job', 'Job Stream', 'Table', 'Routing Criteria', 'Query', 'Data Source', 'Processing Element']

const OBJECT_TYPE_NAMES = ['Person', 'System Object', 'Organization', 'Other']
const NETWORK_ACCESS_POINT_NAMES = ['Machine Name', 'IP Address', 'Telephone Number', 'Email Address', 'URI']
const SOURCE_TYPE_NAMES = ['End-user interface', 'Data acquisition device or instrument', 'Web server process',
  'Application server process', 'Database server process', 'Security server', 'ISO level 1-3 network component',
  'ISO level 4-6 operating software', 'External source, other or unknown type']
const ACTION_NAMES: Record<ActionCode, string> = { C: 'Create', R: 'Read', U: 'Update', D: 'Delete', E: 'Execute' }
const OUTCOME_NAMES: ReadonlyMap<number, string> = new Map([[0, 'Success'], [4, 'Minor failure'], [8, 'Serious failure'], [12, 'Major failure']])

/** A coded value as the schema's CodedValueType carries it (csd-code, codeSystemName, originalText). */
export interface CodedValue {
  code: string
  codeSystemName: 'DCM' | 'RFC-3881'
  displayName: string
}

const ofTable = (names: readonly string[]) => (code: number): string | undefined => Number.isInteger(code) ? names[code - 1] : undefined

/** Which sets a code may come from; each answers its display name, or undefined for a code not in the set. */
export const NAMES = {
  eventId: (code: number): string | undefined => code >= 110100 && code <= 110114 ? DCM_NAMES.get(code) : undefined,
  eventType: (code: number): string | undefined => code >= 110120 && code <= 110142 ? DCM_NAMES.get(code) : undefined,
  roleId: (code: number): string | undefined => code >= 110150 && code <= 110155 ? DCM_NAMES.get(code) : undefined,
  mediaType: (code: number): string | undefined => (code === 110010 || (code >= 110030 && code <= 110038)) ? DCM_NAMES.get(code) : undefined,
  idType: (code: number): string | undefined => code >= 110180 ? (code <= 110182 ? DCM_NAMES.get(code) : undefined) : ofTable(RFC3881_ID_TYPE_NAMES)(code),
  objectType: ofTable(OBJECT_TYPE_NAMES),
  objectRole: ofTable(OBJECT_ROLE_NAMES),
  networkAccessPoint: ofTable(NETWORK_ACCESS_POINT_NAMES),
  sourceType: ofTable(SOURCE_TYPE_NAMES),
  action: (code: string): string | undefined => Object.hasOwn(ACTION_NAMES, code) ? ACTION_NAMES[code as ActionCode] : undefined,
  outcome: (code: number): string | undefined => OUTCOME_NAMES.get(code)
} as const

/** A known DCM or RFC 3881 code as a coded value (throws on an unknown code: records are checked before export). */
export function codedValue (code: number): CodedValue {
  const dcm = code >= 110000 ? DCM_NAMES.get(code) : undefined
  if (dcm !== undefined) return { code: String(code), codeSystemName: 'DCM', displayName: dcm }
  const rfc = NAMES.idType(code)
  if (code < 110000 && rfc !== undefined) return { code: String(code), codeSystemName: 'RFC-3881', displayName: rfc }
  throw new InvalidArgumentError(`codedValue: ${code} is not a code of the audit vocabulary`)
}

// ---- Which action and event type codes each event takes (PS3.15 A.5.3, one table per event) ----
// Where a message leaves EventTypeCode user-optional and unspecialized, peerpacs writes none and
// its reader refuses one: a record carries only what this table can name.

export interface EventRule {
  /** EventActionCode values the message allows. */
  actions: readonly ActionCode[]
  /** Event type codes the message allows; empty when it defines none. */
  types: readonly EventTypeCode[]
  /** Whether exactly one (`'one'`), at least one (`'some'`) or no type code (`'none'`) is required. */
  typeCount: 'one' | 'some' | 'none'
}

const range = (from: number, to: number): EventTypeCode[] => Array.from({ length: to - from + 1 }, (_, i) => (from + i) as EventTypeCode)
const CRUD: readonly ActionCode[] = ['C', 'R', 'U', 'D']

export const EVENT_RULES: ReadonlyMap<EventId, EventRule> = new Map<EventId, EventRule>([
  [110100, { actions: ['E'], types: [110120, 110121], typeCount: 'one' }], // Application Activity
  [110101, { actions: ['R'], types: [], typeCount: 'none' }], // Audit Log Used
  [110102, { actions: ['E'], types: [], typeCount: 'none' }], // Begin Transferring DICOM Instances
  [110103, { actions: CRUD, types: [], typeCount: 'none' }], // DICOM Instances Accessed
  [110104, { actions: ['C', 'R', 'U'], types: [], typeCount: 'none' }], // DICOM Instances Transferred
  [110105, { actions: ['D'], types: [], typeCount: 'none' }], // DICOM Study Deleted
  [110106, { actions: ['R'], types: [], typeCount: 'none' }], // Data Export
  [110107, { actions: ['C'], types: [], typeCount: 'none' }], // Data Import
  [110108, { actions: ['E'], types: [110124, 110125], typeCount: 'one' }], // Network Entry
  [110109, { actions: CRUD, types: [], typeCount: 'none' }], // Order Record
  [110110, { actions: CRUD, types: [], typeCount: 'none' }], // Patient Record
  [110111, { actions: CRUD, types: [], typeCount: 'none' }], // Procedure Record
  [110112, { actions: ['E'], types: [], typeCount: 'none' }], // Query
  [110113, { actions: ['E'], types: range(110126, 110142), typeCount: 'some' }], // Security Alert
  [110114, { actions: ['E'], types: [110122, 110123], typeCount: 'one' }] // User Authentication
])

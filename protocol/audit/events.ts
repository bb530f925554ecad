/**
 * Constructors for the audit records a peerpacs node writes, one per message of PS3.15 A.5.3,
 * so the node never assembles participants and objects by hand. Each fills the roles the
 * standard's table asks for (who is the requestor, which RoleIDCode, which objects), drops
 * empty strings (a DICOM attribute that was present but empty), and returns a checked record.
 * The five that name studies return a list: one record, or as many parts as the studies need to
 * stay within AUDIT_LIMITS (parts.ts), so a large operation is audited whole and never fails on
 * its audit record. Write them all (AuditPort.emit and Auditor.record take the list).
 *
 *   importEvent                 110107 Import (C): files brought in by the CLI from a folder or media
 *   instancesTransferredEvent   110104 DICOM Instances Transferred: C-STORE / STOW received (C),
 *                               C-MOVE / C-GET / WADO sent (R), peer sync
 *   instancesAccessedEvent      110103 DICOM Instances Accessed: viewed, updated, partly deleted
 *   studyDeletedEvent           110105 DICOM Study Deleted
 *   exportEvent                 110106 Export (R): written to media or a destination outside the org
 *   queryEvent                  110112 Query (E): C-FIND, QIDO-RS
 *   userAuthenticationEvent     110114 User Authentication (E): login, logout, token use
 *   securityAlertEvent          110113 Security Alert (E): node authentication, forks, config changes
 *   applicationActivityEvent    110100 Application Activity (E): node start / stop
 *   auditLogUsedEvent           110101 Audit Log Used (R): someone read or exported the audit trail
 */
import { utf8Encode } from '../bytes.ts'
import { auditParts, clipText, type ObjectGroup } from './parts.ts'
import { AUDIT_LIMITS, checkAuditRecord, type ActiveParticipant, type AuditRecord, type AuditSource, type ParticipantObject, type SopClassRef } from './record.ts'
import {
  EVENT_ID, EVENT_TYPE, ID_TYPE, OBJECT_ROLE, OBJECT_TYPE, OUTCOME, ROLE_ID, SOURCE_TYPE,
  type EventTypeCode, type MediaTypeCode, type NetworkAccessPointType, type Outcome, type RoleIdCode
} from './vocabulary.ts'

/** Study Root Query/Retrieve Information Model – FIND: the SOP class a QIDO-RS study query is audited under. */
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1'

/** What every event has: when, which node saw it, and how it ended (default: success). */
export interface EventBase {
  time: number
  source: AuditSource
  outcome?: Outcome
  outcomeDescription?: string
}

/** A person or process taking part: a user, a remote AE, a peer node, this node. */
export interface Actor {
  userId: string
  altUserId?: string
  userName?: string
  networkAccessPointId?: string
  networkAccessPointType?: NetworkAccessPointType
}

/** A study an event touched, with its patient when known. */
export interface StudyRef {
  studyUid: string
  patientId?: string
  patientName?: string
  sopClasses?: SopClassRef[]
}

/** Media data came from or went to (its UserID is a volume id, a path or a URI). */
export interface Media {
  id: string
  type: MediaTypeCode
}

/** The audit source of a peerpacs node: its id, an application server process (type 4). */
export function nodeSource (nodeId: string, enterpriseSiteId?: string): AuditSource {
  const source: AuditSource = { id: nodeId, typeCodes: [SOURCE_TYPE.applicationServerProcess] }
  if (present(enterpriseSiteId)) source.enterpriseSiteId = enterpriseSiteId
  return source
}

function present (s: string | undefined): s is string {
  return s !== undefined && s !== ''
}

function participant (actor: Actor, requestor: boolean, roleIdCode?: RoleIdCode): ActiveParticipant {
  const p: ActiveParticipant = { userId: actor.userId, requestor }
  if (present(actor.altUserId)) p.altUserId = actor.altUserId
  if (present(actor.userName)) p.userName = actor.userName
  if (roleIdCode !== undefined) p.roleIdCode = roleIdCode
  if (present(actor.networkAccessPointId) && actor.networkAccessPointType !== undefined) {
    p.networkAccessPointId = actor.networkAccessPointId
    p.networkAccessPointType = actor.networkAccessPointType
  }
  return p
}

function mediaParticipant (media: Media, roleIdCode: RoleIdCode): ActiveParticipant {
  return { userId: media.id, requestor: false, roleIdCode, mediaType: media.type }
}

/**
 * One group per study (parts.ts): its object (2 system object, 3 report, 110180), or several when
 * it has more SOP classes than one object may list, and its patient (1 person, 1 patient, 2 patient
 * number) when it has a patient id. Text is clipped to AUDIT_LIMITS.maxText and instance UID lists
 * to maxInstanceUids (a SOP class lists "some or all" of its instances), so odd input shortens a
 * name rather than failing the record.
 */
export function studyGroups (studies: readonly StudyRef[]): ObjectGroup[] {
  const patients = new Map<string, ParticipantObject>()
  return studies.map((study) => {
    const classes = (study.sopClasses ?? []).map((c): SopClassRef => c.instanceUids === undefined || c.instanceUids.length <= AUDIT_LIMITS.maxInstanceUids
      ? c
      : { uid: c.uid, instances: c.instances, instanceUids: c.instanceUids.slice(0, AUDIT_LIMITS.maxInstanceUids) })
    const objects: ParticipantObject[] = []
    for (let at = 0; at === 0 || at < classes.length; at += AUDIT_LIMITS.maxSopClasses) {
      const o: ParticipantObject = { typeCode: OBJECT_TYPE.systemObject, roleCode: OBJECT_ROLE.report, idTypeCode: ID_TYPE.studyInstanceUid, id: clipText(study.studyUid) }
      if (classes.length > 0) o.sopClasses = classes.slice(at, at + AUDIT_LIMITS.maxSopClasses)
      objects.push(o)
    }
    if (!present(study.patientId)) return { objects }
    const id = clipText(study.patientId)
    let patient = patients.get(id)
    if (patient === undefined) {
      patient = { typeCode: OBJECT_TYPE.person, roleCode: OBJECT_ROLE.patient, idTypeCode: ID_TYPE.patientNumber, id }
      if (present(study.patientName)) patient.name = clipText(study.patientName)
      patients.set(id, patient)
    }
    return { objects, shared: patient }
  })
}

/** Studies then their patients, one per patient id (first name wins), as one record names them. */
export function studyObjects (studies: readonly StudyRef[]): ParticipantObject[] {
  const groups = studyGroups(studies)
  const patients = new Map<string, ParticipantObject>()
  for (const g of groups) if (g.shared !== undefined) patients.set(g.shared.id, g.shared)
  return [...groups.flatMap((g) => g.objects), ...patients.values()]
}

function skeleton (base: EventBase, fields: Pick<AuditRecord, 'eventId' | 'action' | 'participants'> & { eventTypeCodes?: EventTypeCode[] }): Omit<AuditRecord, 'objects'> {
  const r: Omit<AuditRecord, 'objects'> = {
    eventId: fields.eventId,
    action: fields.action,
    outcome: base.outcome ?? OUTCOME.success,
    time: base.time,
    participants: fields.participants,
    source: base.source
  }
  if (fields.eventTypeCodes !== undefined) r.eventTypeCodes = fields.eventTypeCodes
  if (present(base.outcomeDescription)) r.outcomeDescription = base.outcomeDescription
  return r
}

function record (base: EventBase, fields: Pick<AuditRecord, 'eventId' | 'action' | 'participants' | 'objects'> & { eventTypeCodes?: EventTypeCode[] }): AuditRecord {
  const r: AuditRecord = { ...skeleton(base, fields), objects: fields.objects }
  return checkAuditRecord(r, `${fields.eventId} record`)
}

/** The records of an event about `studies`: one, or as many parts as the studies need (parts.ts), each checked. */
function studyRecords (base: EventBase, fields: Pick<AuditRecord, 'eventId' | 'action' | 'participants'>, studies: readonly StudyRef[]): AuditRecord[] {
  return auditParts(skeleton(base, fields), studyGroups(studies), { noun: 'studies' })
    .map((r, i, all) => checkAuditRecord(r, all.length === 1 ? `${fields.eventId} record` : `${fields.eventId} record part ${i + 1}`))
}

/** PS3.15 A.5.3 "Data Import": the importing user or process (110152, requestor) and the source media (110155). */
export function importEvent (e: EventBase & { importer: Actor, media?: Media, studies: readonly StudyRef[] }): AuditRecord[] {
  const participants = [participant(e.importer, true, ROLE_ID.destination)]
  if (e.media !== undefined) participants.push(mediaParticipant(e.media, ROLE_ID.sourceMedia))
  return studyRecords(e, { eventId: EVENT_ID.import, action: 'C', participants }, e.studies)
}

/**
 * PS3.15 A.5.3 "DICOM Instances Transferred": the sender (110153) and the receiver (110152);
 * `requestedBy` names which of them asked, or is a third party (the C-MOVE requestor). Action C
 * when the receiver did not hold the instances, U when it updated them, R otherwise or unknown.
 */
export function instancesTransferredEvent (e: EventBase & { action: 'C' | 'R' | 'U', from: Actor, to: Actor, requestedBy: 'from' | 'to' | Actor, studies: readonly StudyRef[] }): AuditRecord[] {
  const participants = [
    participant(e.from, e.requestedBy === 'from', ROLE_ID.source),
    participant(e.to, e.requestedBy === 'to', ROLE_ID.destination)
  ]
  if (typeof e.requestedBy === 'object') participants.push(participant(e.requestedBy, true))
  return studyRecords(e, { eventId: EVENT_ID.instancesTransferred, action: e.action, participants }, e.studies)
}

/** PS3.15 A.5.3 "DICOM Instances Accessed": the user or process that read (R), created (C), updated (U) or deleted (D) some instances. */
export function instancesAccessedEvent (e: EventBase & { action: 'C' | 'R' | 'U' | 'D', user: Actor, studies: readonly StudyRef[] }): AuditRecord[] {
  return studyRecords(e, { eventId: EVENT_ID.instancesAccessed, action: e.action, participants: [participant(e.user, true)] }, e.studies)
}

/** PS3.15 A.5.3 "DICOM Study Deleted": every instance of the studies is gone. */
export function studyDeletedEvent (e: EventBase & { user: Actor, studies: readonly StudyRef[] }): AuditRecord[] {
  return studyRecords(e, { eventId: EVENT_ID.studyDeleted, action: 'D', participants: [participant(e.user, true)] }, e.studies)
}

/**
 * PS3.15 A.5.3 "Data Export": the exporting user or process (110153), the remote user who asked
 * for it if any (110152), and the destination media (110154). One participant is the requestor:
 * the remote user when given, else the exporter.
 */
export function exportEvent (e: EventBase & { exporter: Actor, requestedBy?: Actor, media: Media, studies: readonly StudyRef[] }): AuditRecord[] {
  const participants = [participant(e.exporter, e.requestedBy === undefined, ROLE_ID.source)]
  if (e.requestedBy !== undefined) participants.push(participant(e.requestedBy, true, ROLE_ID.destination))
  participants.push(mediaParticipant(e.media, ROLE_ID.destinationMedia))
  return studyRecords(e, { eventId: EVENT_ID.export, action: 'R', participants }, e.studies)
}

/**
 * PS3.15 A.5.3 "Query": the querying process (110153, requestor) and the responding one (110152);
 * the object is the query itself, identified by its SOP class (C-FIND's, or STUDY_ROOT_FIND for
 * QIDO-RS) and carried whole: the C-FIND identifier as received, or the QIDO query string. A
 * query longer than AUDIT_LIMITS.maxBinary keeps its first maxBinary bytes, and the outcome
 * description says how long it was (the query is still audited, never refused for its size).
 */
export function queryEvent (e: EventBase & { from: Actor, to: Actor, sopClassUid: string, query: Uint8Array, transferSyntax?: string }): AuditRecord {
  const long = e.query.length > AUDIT_LIMITS.maxBinary
  const query = long ? e.query.slice(0, AUDIT_LIMITS.maxBinary) : e.query
  const object: ParticipantObject = { typeCode: OBJECT_TYPE.systemObject, roleCode: OBJECT_ROLE.report, idTypeCode: ID_TYPE.sopClassUid, id: clipText(e.sopClassUid), query }
  if (present(e.transferSyntax)) object.detail = [{ type: 'TransferSyntax', value: utf8Encode(e.transferSyntax) }]
  if (long) {
    const note = `query of ${e.query.length} bytes, the first ${AUDIT_LIMITS.maxBinary} kept`
    e = { ...e, outcomeDescription: present(e.outcomeDescription) ? `${clipText(e.outcomeDescription, AUDIT_LIMITS.maxText - note.length - 2)}; ${note}` : note }
  }
  return record(e, {
    eventId: EVENT_ID.query,
    action: 'E',
    participants: [participant(e.from, true, ROLE_ID.source), participant(e.to, false, ROLE_ID.destination)],
    objects: [object]
  })
}

/**
 * PS3.15 A.5.3 "User Authentication": the user (requestor) and the node that checked them. A
 * failed attempt is a login with outcome 4 (or 8 once locked out); the use of an API token is a
 * login whose outcomeDescription says so.
 */
export function userAuthenticationEvent (e: EventBase & { kind: 'login' | 'logout', user: Actor, authenticator: Actor }): AuditRecord {
  return record(e, {
    eventId: EVENT_ID.userAuthentication,
    eventTypeCodes: [e.kind === 'login' ? EVENT_TYPE.login : EVENT_TYPE.logout],
    action: 'E',
    participants: [participant(e.user, true), participant(e.authenticator, false)],
    objects: []
  })
}

/** What a security alert is about: a node (110182), a user (11) or a resource named by URI (12). */
export interface AlertSubject {
  kind: 'node' | 'user' | 'uri'
  id: string
  /** Stored as the "Alert Description" detail. */
  description?: string
}

const SUBJECT_ID_TYPE = { node: ID_TYPE.nodeId, user: ID_TYPE.userIdentifier, uri: ID_TYPE.uri } as const

/**
 * PS3.15 A.5.3 "Security Alert": the reporting node or user (requestor), anyone else involved,
 * and the alert subjects as security resources (2 system object, 13 security resource). A fork
 * in the log is a 110126 Node Authentication alert about the forking node.
 */
export function securityAlertEvent (e: EventBase & { types: EventTypeCode[], reporter: Actor, performers?: readonly Actor[], subjects: readonly AlertSubject[] }): AuditRecord {
  const objects = e.subjects.map((s): ParticipantObject => {
    const o: ParticipantObject = { typeCode: OBJECT_TYPE.systemObject, roleCode: OBJECT_ROLE.securityResource, idTypeCode: SUBJECT_ID_TYPE[s.kind], id: s.id }
    if (present(s.description)) o.detail = [{ type: 'Alert Description', value: utf8Encode(s.description) }]
    return o
  })
  const participants = [participant(e.reporter, true), ...(e.performers ?? []).map(a => participant(a, false))]
  return record(e, { eventId: EVENT_ID.securityAlert, eventTypeCodes: e.types, action: 'E', participants, objects })
}

/**
 * PS3.15 A.5.3.1 "Application Activity": the application started or stopped (110150) and whoever
 * launched or stopped it (110151, requestor). Without a launcher the application is the requestor.
 */
export function applicationActivityEvent (e: EventBase & { kind: 'start' | 'stop', application: Actor, launcher?: Actor }): AuditRecord {
  const participants = [participant(e.application, e.launcher === undefined, ROLE_ID.application)]
  if (e.launcher !== undefined) participants.push(participant(e.launcher, true, ROLE_ID.applicationLauncher))
  return record(e, {
    eventId: EVENT_ID.applicationActivity,
    eventTypeCodes: [e.kind === 'start' ? EVENT_TYPE.applicationStart : EVENT_TYPE.applicationStop],
    action: 'E',
    participants,
    objects: []
  })
}

/** PS3.15 A.5.3.2 "Audit Log Used": who read the trail (requestor), and the trail as a security resource named by URI. */
export function auditLogUsedEvent (e: EventBase & { user: Actor, log: string }): AuditRecord {
  return record(e, {
    eventId: EVENT_ID.auditLogUsed,
    action: 'R',
    participants: [participant(e.user, true)],
    objects: [{ typeCode: OBJECT_TYPE.systemObject, roleCode: OBJECT_ROLE.securityResource, idTypeCode: ID_TYPE.uri, id: e.log, name: 'Security Audit Log' }]
  })
}

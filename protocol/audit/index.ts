/** Audit records in the DICOM audit vocabulary: the record, its codec and sealing, the event constructors, exports and search. */
export * from './vocabulary.ts'
export { AUDIT_LIMITS, checkAuditRecord, MAX_AUDIT_TIME, readAuditRecord } from './record.ts'
export type { ActiveParticipant, AuditRecord, AuditSource, Fail, ObjectDetail, ParticipantObject, SopClassRef } from './record.ts'
export { decodeAuditRecord, encodeAuditRecord } from './codec.ts'
export { AUDIT_AAD_DOMAIN, openAuditRecord, sealAuditRecord } from './seal.ts'
export type { AuditContext } from './seal.ts'
export {
  applicationActivityEvent, auditLogUsedEvent, exportEvent, importEvent, instancesAccessedEvent, instancesTransferredEvent,
  nodeSource, queryEvent, securityAlertEvent, STUDY_ROOT_FIND, studyDeletedEvent, studyGroups, studyObjects, userAuthenticationEvent
} from './events.ts'
export { auditParts, clipText, PART_OBJECT_BYTES } from './parts.ts'
export type { ObjectGroup, PartsOptions } from './parts.ts'
export type { Actor, AlertSubject, EventBase, Media, StudyRef } from './events.ts'
export { fromJsonLine, toJsonLine } from './json-lines.ts'
export type { AuditOpRef } from './json-lines.ts'
export { auditDateTime, toDicomAuditXml } from './xml.ts'
export { escapeAttribute, escapeText } from './xml-escape.ts'
export { matchesAuditFilter } from './filter.ts'
export type { AuditFilter } from './filter.ts'

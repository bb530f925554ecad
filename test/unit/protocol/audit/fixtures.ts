/**
 * Audit records for the tests: one from each event constructor, with hostile text where a
 * real node would pass through outside input (patient names, AE titles, queries).
 */
import {
  applicationActivityEvent, auditLogUsedEvent, EVENT_TYPE, exportEvent, importEvent, instancesAccessedEvent,
  instancesTransferredEvent, MEDIA_TYPE, NETWORK_ACCESS_POINT, nodeSource, OUTCOME, queryEvent, securityAlertEvent,
  STUDY_ROOT_FIND, studyDeletedEvent, userAuthenticationEvent, type Actor, type AuditRecord, type StudyRef
} from '../../../../protocol/audit/index.ts'

export const NODE_ID = 'a'.repeat(64)
export const source = nodeSource(NODE_ID, 'Clinic North')
export const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678)

/** Markup, quotes, controls (tab, LF, CR, NUL, ESC, DEL, U+FFFE), an astral character and RTL override. */
export const HOSTILE = `Doe^<Jane>&"Jo'</AuditMessage><!--x-->]]>\t\n\r\u0000\u001b\u007f\uFFFE😀\u202E`

export const thisNode: Actor = { userId: 'peerpacs@north', altUserId: 'AETitle=PEERPACS', networkAccessPointId: 'north.example', networkAccessPointType: NETWORK_ACCESS_POINT.machineName }
export const remoteAe: Actor = { userId: 'CT_SCANNER', altUserId: `AETitle=${HOSTILE}`, networkAccessPointId: '10.0.0.7', networkAccessPointType: NETWORK_ACCESS_POINT.ipAddress }
export const alice: Actor = { userId: 'alice', userName: 'Alice Radiologist' }

export const studyA: StudyRef = {
  studyUid: '1.2.3.4.5',
  patientId: 'P-001',
  patientName: HOSTILE,
  sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.2', instances: 3, instanceUids: ['1.2.3.4.5.1', '1.2.3.4.5.2'] }]
}
export const studyB: StudyRef = { studyUid: '1.2.3.4.6', patientId: 'P-001', patientName: 'ignored: patient already listed' }
export const studyC: StudyRef = { studyUid: '1.2.3.4.7', patientId: 'P-002', patientName: '' }

/** The one record of an event about a few studies (an event naming many is several records: parts.test.ts). */
export function only (records: AuditRecord[]): AuditRecord {
  if (records.length !== 1) throw new Error(`expected one record, got ${records.length}`)
  return records[0]!
}

export function sampleRecords (): Array<[string, AuditRecord]> {
  const base = { time: T0, source }
  return [
    ['import', only(importEvent({ ...base, importer: alice, media: { id: 'file:///media/cdrom', type: MEDIA_TYPE.uri }, studies: [studyA, studyB] }))],
    ['c-store received', only(instancesTransferredEvent({ ...base, action: 'C', from: remoteAe, to: thisNode, requestedBy: 'from', studies: [studyA] }))],
    ['c-move sent', only(instancesTransferredEvent({ ...base, action: 'R', from: thisNode, to: remoteAe, requestedBy: alice, studies: [studyA, studyC] }))],
    ['c-get sent', only(instancesTransferredEvent({ ...base, action: 'R', from: thisNode, to: remoteAe, requestedBy: 'to', studies: [studyC] }))],
    ['wado accessed', only(instancesAccessedEvent({ ...base, action: 'R', user: alice, studies: [studyA] }))],
    ['study deleted', only(studyDeletedEvent({ ...base, user: alice, studies: [studyC] }))],
    ['export', only(exportEvent({ ...base, exporter: thisNode, requestedBy: alice, media: { id: 'https://partner.example/stow', type: MEDIA_TYPE.uri }, studies: [studyA] }))],
    ['c-find', queryEvent({ ...base, from: remoteAe, to: thisNode, sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', query: new Uint8Array([0x08, 0x00, 0x52, 0x00, 0, 0xff, 0x3c]), transferSyntax: '1.2.840.10008.1.2.1' })],
    ['qido', queryEvent({ ...base, from: alice, to: thisNode, sopClassUid: STUDY_ROOT_FIND, query: new TextEncoder().encode(`PatientName=${HOSTILE}&limit=10`) })],
    ['login failed', userAuthenticationEvent({ ...base, kind: 'login', user: alice, authenticator: thisNode, outcome: OUTCOME.minorFailure, outcomeDescription: `bad TOTP ${HOSTILE}` })],
    ['token use', userAuthenticationEvent({ ...base, kind: 'login', user: alice, authenticator: thisNode, outcomeDescription: 'API token' })],
    ['logout', userAuthenticationEvent({ ...base, kind: 'logout', user: alice, authenticator: thisNode })],
    ['fork alert', securityAlertEvent({ ...base, types: [EVENT_TYPE.nodeAuthentication], reporter: thisNode, subjects: [{ kind: 'node', id: 'b'.repeat(64), description: 'two ops with seq 7' }] })],
    ['emergency override', securityAlertEvent({ ...base, types: [EVENT_TYPE.emergencyOverrideStarted, EVENT_TYPE.useOfRestrictedFunction], reporter: thisNode, performers: [alice], subjects: [{ kind: 'user', id: 'alice' }, { kind: 'uri', id: 'peerpacs:study/1.2.3.4.5' }] })],
    ['start', applicationActivityEvent({ ...base, kind: 'start', application: thisNode, launcher: { userId: 'systemd' } })],
    ['stop', applicationActivityEvent({ ...base, kind: 'stop', application: thisNode })],
    ['audit log used', auditLogUsedEvent({ ...base, user: alice, log: 'peerpacs:audit' })]
  ]
}

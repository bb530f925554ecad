/**
 * The audit records of the DIMSE edge (PS3.15 A.5.3): instances received over C-STORE (one
 * record per association, naming every study and patient), C-FIND queries, and instances sent
 * by C-MOVE and C-GET (refused associations: refusals.ts). Records go through the audit port (audit/audit-port.ts), never blocking a response.
 */
import { instancesTransferredEvent, nodeSource, OUTCOME, queryEvent, type Actor } from '../../protocol/audit/index.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import type { AuditPort } from '../audit/audit-port.ts'
import { studyRefs, thisNode } from '../audit/actors.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'

type Instances = ReadonlyArray<Pick<InstanceHeader, 'studyInstanceUid' | 'patientId' | 'patientName' | 'sopClassUid'>>

function self (audit: AuditPort, aeTitle: string): Actor { return thisNode(audit.nodeId, aeTitle) }

export function auditReceived (audit: AuditPort, aeTitle: string, from: Actor, instances: Instances, failed: number): void {
  audit.emit(instancesTransferredEvent({
    time: Date.now(),
    source: nodeSource(audit.nodeId),
    ...(failed === 0 ? {} : { outcome: OUTCOME.minorFailure, outcomeDescription: `${failed} C-STORE requests failed` }),
    action: 'C',
    from,
    to: self(audit, aeTitle),
    requestedBy: 'from',
    studies: studyRefs(instances)
  }))
}

export function auditSent (audit: AuditPort, aeTitle: string, to: Actor, requestedBy: 'to' | Actor, instances: Instances, failed: number): void {
  audit.emit(instancesTransferredEvent({
    time: Date.now(),
    source: nodeSource(audit.nodeId),
    ...(failed === 0 ? {} : { outcome: failed >= instances.length ? OUTCOME.seriousFailure : OUTCOME.minorFailure, outcomeDescription: `${failed} of ${instances.length} sub-operations failed` }),
    action: 'R',
    from: self(audit, aeTitle),
    to,
    requestedBy,
    studies: studyRefs(instances)
  }))
}

/** The query's keys, as JSON (the audit record carries them sealed, like every other PHI). */
export function auditQuery (audit: AuditPort, aeTitle: string, from: Actor, sopClassUid: string | undefined, keys: Record<string, unknown>, outcome: 'ok' | 'failed'): void {
  audit.emit(queryEvent({
    time: Date.now(),
    source: nodeSource(audit.nodeId),
    ...(outcome === 'ok' ? {} : { outcome: OUTCOME.minorFailure }),
    from,
    to: self(audit, aeTitle),
    // A request without an Affected SOP Class UID is refused, and still recorded.
    sopClassUid: typeof sopClassUid === 'string' && sopClassUid !== '' ? sopClassUid : '(none given)',
    query: utf8Encode(JSON.stringify(keys).slice(0, 60_000))
  }))
}

/**
 * Export of an audit record as a DICOM audit message: one `<AuditMessage>` element as the
 * schema of PS3.15 A.5.1.1 defines it (RELAX NG), in its element order — EventIdentification,
 * ActiveParticipant+, AuditSourceIdentification, ParticipantObjectIdentification*. This is what
 * an ATNA audit repository (IHE ITI-20) or a DICOM audit tool reads.
 *
 * Mapping notes:
 * - Coded values carry csd-code, codeSystemName ("DCM", or "RFC-3881" for id types 1–12) and
 *   originalText (the code meaning), as CodedValueType requires.
 * - EventDateTime is UTC with milliseconds (xsd:dateTime, PS3.15 A.5.2.5).
 * - SOP classes go inside ParticipantObjectDescription (DICOMObjectDescriptionContents).
 *   The schema has no slot for free text there, so an object's `description` is written as a
 *   ParticipantObjectDetail of type "Description"; details and queries are base64, as the schema says.
 * - The output is one line (no declaration; newlines inside values are character references),
 *   so a file of messages can hold one per line.
 */
import { base64 } from '@scure/base'
import { utf8Encode } from '../bytes.ts'
import { checkAuditRecord, type ActiveParticipant, type AuditRecord, type ParticipantObject } from './record.ts'
import { codedValue } from './vocabulary.ts'
import { escapeAttribute, escapeText } from './xml-escape.ts'

type Attributes = Array<[string, string | number | boolean | undefined]>

function attrs (list: Attributes): string {
  return list.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeAttribute(String(v))}"`).join('')
}

function element (name: string, attributes: Attributes, children: string[] = []): string {
  return children.length === 0 ? `<${name}${attrs(attributes)}/>` : `<${name}${attrs(attributes)}>${children.join('')}</${name}>`
}

function textElement (name: string, text: string): string {
  return `<${name}>${escapeText(text)}</${name}>`
}

function coded (name: string, code: number): string {
  const c = codedValue(code)
  return element(name, [['csd-code', c.code], ['codeSystemName', c.codeSystemName], ['originalText', c.displayName]])
}

/** xsd:dateTime in UTC with milliseconds: 2024-05-01T12:00:00.000Z. */
export function auditDateTime (time: number): string {
  return new Date(time).toISOString()
}

function participant (p: ActiveParticipant): string {
  const children: string[] = []
  if (p.roleIdCode !== undefined) children.push(coded('RoleIDCode', p.roleIdCode))
  if (p.mediaType !== undefined) children.push(element('MediaIdentifier', [], [coded('MediaType', p.mediaType)]))
  return element('ActiveParticipant', [
    ['UserID', p.userId],
    ['AlternativeUserID', p.altUserId],
    ['UserName', p.userName],
    ['UserIsRequestor', p.requestor],
    ['NetworkAccessPointID', p.networkAccessPointId],
    ['NetworkAccessPointTypeCode', p.networkAccessPointType]
  ], children)
}

function object (o: ParticipantObject): string {
  const children = [coded('ParticipantObjectIDTypeCode', o.idTypeCode)]
  if (o.name !== undefined) children.push(textElement('ParticipantObjectName', o.name))
  if (o.query !== undefined) children.push(textElement('ParticipantObjectQuery', base64.encode(o.query)))
  const details = [...(o.detail ?? [])]
  if (o.description !== undefined) details.push({ type: 'Description', value: utf8Encode(o.description) })
  for (const d of details) children.push(element('ParticipantObjectDetail', [['type', d.type], ['value', base64.encode(d.value)]]))
  if (o.sopClasses !== undefined) {
    children.push(element('ParticipantObjectDescription', [], o.sopClasses.map(c =>
      element('SOPClass', [['UID', c.uid], ['NumberOfInstances', c.instances]], (c.instanceUids ?? []).map(uid => element('Instance', [['UID', uid]]))))))
  }
  return element('ParticipantObjectIdentification', [
    ['ParticipantObjectID', o.id],
    ['ParticipantObjectTypeCode', o.typeCode],
    ['ParticipantObjectTypeCodeRole', o.roleCode]
  ], children)
}

export function toDicomAuditXml (record: AuditRecord): string {
  const r = checkAuditRecord(record, 'toDicomAuditXml(record)')
  const event = [coded('EventID', r.eventId), ...(r.eventTypeCodes ?? []).map(t => coded('EventTypeCode', t))]
  if (r.outcomeDescription !== undefined) event.push(textElement('EventOutcomeDescription', r.outcomeDescription))
  const source = element('AuditSourceIdentification', [['AuditEnterpriseSiteID', r.source.enterpriseSiteId], ['AuditSourceID', r.source.id]],
    (r.source.typeCodes ?? []).map(t => element('AuditSourceTypeCode', [['csd-code', t]])))
  return element('AuditMessage', [], [
    element('EventIdentification', [['EventActionCode', r.action], ['EventDateTime', auditDateTime(r.time)], ['EventOutcomeIndicator', r.outcome]], event),
    ...r.participants.map(participant),
    source,
    ...r.objects.map(object)
  ])
}

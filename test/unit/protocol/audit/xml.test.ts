/**
 * The DICOM audit message export (PS3.15 A.5.1): every sample is well-formed XML (a strict
 * reader in xml-check.ts; and, when python3 is on the machine, expat as a second opinion), its
 * elements come in the schema's order with the required attributes, coded values carry
 * csd-code/codeSystemName/originalText, and hostile text comes back as what went in (minus the
 * characters XML cannot carry at all, which become U+FFFD).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { base64 } from '@scure/base'
import { escapeAttribute, toDicomAuditXml, type AuditRecord } from '../../../../protocol/audit/index.ts'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { throwsPeerpacs } from '../helpers.ts'
import { HOSTILE, sampleRecords, T0 } from './fixtures.ts'
import { childrenNamed, parseXml, type XmlElement } from './xml-check.ts'

const samples = sampleRecords()
const get = (name: string): AuditRecord => samples.find(([n]) => n === name)![1]

/** What XML can carry of `s`: characters outside XML 1.0's Char production become U+FFFD. */
const xmlSafe = (s: string): string => s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')

function checkCoded (el: XmlElement, code: number, system: string): void {
  assert.equal(el.attributes.get('csd-code'), String(code), el.name)
  assert.equal(el.attributes.get('codeSystemName'), system, el.name)
  assert.ok((el.attributes.get('originalText') ?? '').length > 0, `${el.name} originalText`)
}

test('the strict reader refuses what is not well-formed (positive control)', () => {
  for (const bad of ['<a>', '<a></b>', '<a b="1" b="2"/>', '<a b="<"/>', '<a>&</a>', '<a>&foo;</a>', '<a>&#0;</a>', '<a>\u0001</a>',
    '<a/><b/>', '<a b=1/>', '<a>]]></a>', '<a><!-- c --></a>', '<a b="\uFFFE"/>', 'text<a/>']) {
    assert.throws(() => parseXml(bad), Error, JSON.stringify(bad))
  }
  assert.equal(parseXml('<a b="&lt;&#10;&#x1F600;"><c/>t&amp;</a>').attributes.get('b'), '<\n😀')
})

test('every sample exports as one well-formed line, with the schema\'s element order', () => {
  const order = ['EventIdentification', 'ActiveParticipant', 'AuditSourceIdentification', 'ParticipantObjectIdentification']
  for (const [name, record] of samples) {
    const xml = toDicomAuditXml(record)
    assert.ok(!/[\r\n]/.test(xml), `${name}: one line`)
    const root = parseXml(xml)
    assert.equal(root.name, 'AuditMessage')
    const ranks = root.children.map(c => order.indexOf(c.name))
    assert.ok(ranks.every(r => r >= 0), `${name}: only schema elements`)
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `${name}: schema order`)
    assert.equal(childrenNamed(root, 'EventIdentification').length, 1)
    assert.equal(childrenNamed(root, 'AuditSourceIdentification').length, 1)
    assert.equal(childrenNamed(root, 'ActiveParticipant').length, record.participants.length)
    assert.equal(childrenNamed(root, 'ParticipantObjectIdentification').length, record.objects.length)
  }
})

test('EventIdentification: EventID and EventTypeCode coded, action, UTC time with ms, outcome, description', () => {
  const record = get('login failed')
  const ev = childrenNamed(parseXml(toDicomAuditXml(record)), 'EventIdentification')[0]!
  assert.equal(ev.attributes.get('EventActionCode'), 'E')
  assert.equal(ev.attributes.get('EventDateTime'), '2025-01-02T03:04:05.678Z')
  assert.equal(Date.parse(ev.attributes.get('EventDateTime')!), T0)
  assert.equal(ev.attributes.get('EventOutcomeIndicator'), '4')
  assert.deepEqual(ev.children.map(c => c.name), ['EventID', 'EventTypeCode', 'EventOutcomeDescription'])
  checkCoded(ev.children[0]!, 110114, 'DCM')
  assert.equal(ev.children[0]!.attributes.get('originalText'), 'User Authentication')
  checkCoded(ev.children[1]!, 110122, 'DCM')
  assert.equal(ev.children[2]!.text, xmlSafe(`bad TOTP ${HOSTILE}`))
})

test('ActiveParticipant, AuditSourceIdentification and a media participant', () => {
  const record = get('import')
  const root = parseXml(toDicomAuditXml(record))
  const [importer, media] = childrenNamed(root, 'ActiveParticipant')
  assert.equal(importer!.attributes.get('UserID'), 'alice')
  assert.equal(importer!.attributes.get('UserName'), 'Alice Radiologist')
  assert.equal(importer!.attributes.get('UserIsRequestor'), 'true')
  checkCoded(childrenNamed(importer!, 'RoleIDCode')[0]!, 110152, 'DCM')
  assert.equal(media!.attributes.get('UserIsRequestor'), 'false')
  checkCoded(childrenNamed(media!, 'RoleIDCode')[0]!, 110155, 'DCM')
  checkCoded(childrenNamed(childrenNamed(media!, 'MediaIdentifier')[0]!, 'MediaType')[0]!, 110037, 'DCM')
  const src = childrenNamed(root, 'AuditSourceIdentification')[0]!
  assert.equal(src.attributes.get('AuditSourceID'), 'a'.repeat(64))
  assert.equal(src.attributes.get('AuditEnterpriseSiteID'), 'Clinic North')
  assert.deepEqual(src.children.map(c => [c.name, c.attributes.get('csd-code')]), [['AuditSourceTypeCode', '4']])

  const transfer = parseXml(toDicomAuditXml(get('c-store received')))
  const ae = childrenNamed(transfer, 'ActiveParticipant')[0]!
  assert.equal(ae.attributes.get('AlternativeUserID'), xmlSafe(`AETitle=${HOSTILE}`))
  assert.equal(ae.attributes.get('NetworkAccessPointID'), '10.0.0.7')
  assert.equal(ae.attributes.get('NetworkAccessPointTypeCode'), '2')
})

test('ParticipantObjectIdentification: study with SOP classes, patient with a hostile name', () => {
  const objects = childrenNamed(parseXml(toDicomAuditXml(get('import'))), 'ParticipantObjectIdentification')
  const [a, b, patient] = objects
  assert.equal(objects.length, 3, 'two studies, one patient')
  assert.equal(a!.attributes.get('ParticipantObjectID'), '1.2.3.4.5')
  assert.equal(a!.attributes.get('ParticipantObjectTypeCode'), '2')
  assert.equal(a!.attributes.get('ParticipantObjectTypeCodeRole'), '3')
  checkCoded(a!.children[0]!, 110180, 'DCM')
  const sop = childrenNamed(childrenNamed(a!, 'ParticipantObjectDescription')[0]!, 'SOPClass')[0]!
  assert.equal(sop.attributes.get('UID'), '1.2.840.10008.5.1.4.1.1.2')
  assert.equal(sop.attributes.get('NumberOfInstances'), '3')
  assert.deepEqual(childrenNamed(sop, 'Instance').map(i => i.attributes.get('UID')), ['1.2.3.4.5.1', '1.2.3.4.5.2'])
  assert.equal(b!.attributes.get('ParticipantObjectID'), '1.2.3.4.6')
  assert.equal(patient!.attributes.get('ParticipantObjectTypeCode'), '1')
  assert.equal(patient!.attributes.get('ParticipantObjectTypeCodeRole'), '1')
  checkCoded(patient!.children[0]!, 2, 'RFC-3881')
  assert.equal(patient!.children[0]!.attributes.get('originalText'), 'Patient Number')
  assert.equal(childrenNamed(patient!, 'ParticipantObjectName')[0]!.text, xmlSafe(HOSTILE))
})

test('query: the query bytes and details as base64, the SOP class as id', () => {
  const record = get('c-find')
  const object = childrenNamed(parseXml(toDicomAuditXml(record)), 'ParticipantObjectIdentification')[0]!
  assert.equal(object.attributes.get('ParticipantObjectID'), '1.2.840.10008.5.1.4.1.2.2.1')
  checkCoded(object.children[0]!, 110181, 'DCM')
  assert.deepEqual(base64.decode(childrenNamed(object, 'ParticipantObjectQuery')[0]!.text), record.objects[0]!.query)
  const detail = childrenNamed(object, 'ParticipantObjectDetail')[0]!
  assert.equal(detail.attributes.get('type'), 'TransferSyntax')
  assert.equal(new TextDecoder().decode(base64.decode(detail.attributes.get('value')!)), '1.2.840.10008.1.2.1')
  const qido = childrenNamed(parseXml(toDicomAuditXml(get('qido'))), 'ParticipantObjectIdentification')[0]!
  assert.equal(new TextDecoder().decode(base64.decode(childrenNamed(qido, 'ParticipantObjectQuery')[0]!.text)), `PatientName=${HOSTILE}&limit=10`)
})

test('a free-text description is kept as a "Description" detail', () => {
  const record = get('audit log used')
  const withDescription = { ...record, objects: [{ ...record.objects[0]!, description: `why: ${HOSTILE}` }] }
  const object = childrenNamed(parseXml(toDicomAuditXml(withDescription)), 'ParticipantObjectIdentification')[0]!
  const detail = childrenNamed(object, 'ParticipantObjectDetail').find(d => d.attributes.get('type') === 'Description')!
  assert.equal(new TextDecoder().decode(base64.decode(detail.attributes.get('value')!)), `why: ${HOSTILE}`)
})

test('escaping: markup, quotes and invisible controls become references, what XML cannot carry becomes U+FFFD', () => {
  assert.equal(escapeAttribute(`<&"'>`), '&lt;&amp;&quot;&apos;&gt;')
  assert.equal(escapeAttribute('a\tb\nc\rd'), 'a&#9;b&#10;c&#13;d')
  assert.equal(escapeAttribute('\u0000\u0008\u000b\u000c\u001f\uFFFE\uFFFF'), '\uFFFD'.repeat(7))
  assert.equal(escapeAttribute('\uD800x\uDC00'), '\uFFFDx\uFFFD')
  assert.equal(escapeAttribute('😀é'), '😀é')
  assert.equal(escapeAttribute('\u007f\u0085\u2028\u2029\u202e\u2066'), '&#127;&#133;&#8232;&#8233;&#8238;&#8294;', 'legal, but line splitters and terminals act on them')
  for (let cp = 0; cp < 0x10000; cp += 1) {
    const s = String.fromCharCode(cp)
    parseXml(`<a b="${escapeAttribute(s)}">${escapeAttribute(s)}</a>`)
  }
})

test('an invalid record is not exported', () => {
  throwsPeerpacs(() => toDicomAuditXml({ ...get('c-find'), outcome: 5 } as unknown as AuditRecord), InvalidArgumentError)
})

const python = spawnSync('python3', ['-c', 'import xml.parsers.expat'], { encoding: 'utf8' })
test('expat agrees that every sample is well-formed (when python3 is available)', { skip: python.status === 0 ? false : 'python3 with expat not found' }, () => {
  const script = 'import sys, xml.dom.minidom\nfor line in sys.stdin.buffer.read().split(b"\\n"):\n    xml.dom.minidom.parseString(line)\nprint("ok")'
  const input = samples.map(([, r]) => toDicomAuditXml(r)).join('\n')
  const result = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout.trim(), 'ok')
})

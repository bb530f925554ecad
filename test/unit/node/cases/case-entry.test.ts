/**
 * How an entry sits in a case-document note (node/cases/case-entry.ts): encoded and decoded back
 * with its person; a note not written through the viewer (plain text, other JSON, a malformed
 * measurement) reads as a plain note of its site; wrong-typed input to parseNewEntry is refused
 * with a message naming the field.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeEntry, encodeEntry, parseNewEntry } from '../../../../node/cases/case-entry.ts'

const SITE = 'ab'.repeat(32)
const PERSON = { id: 'c'.repeat(32), displayName: 'Dr Cee' }
const ELLIPSE = { tool: 'ellipse', sopInstanceUid: '1.2.3', frame: 2, points: [[10, 20], [10, 4], [2, 12], [18, 12]], value: 100.5, unit: 'mm²', text: 'mean 40 HU, SD 0 HU' }

test('an entry round-trips through a note with its person; other notes read as plain notes of their site', () => {
  const measurement = parseNewEntry({ kind: 'measurement', measurement: ELLIPSE })
  const read = decodeEntry({ id: '7:3', author: SITE, time: 1000, text: encodeEntry(measurement, PERSON) })
  assert.deepEqual(read, { id: '7:3', site: SITE, account: PERSON.id, name: 'Dr Cee', time: 1000, kind: 'measurement', measurement: ELLIPSE })
  const note = decodeEntry({ id: '7:4', author: SITE, time: 2000, text: encodeEntry(parseNewEntry({ kind: 'note', text: 'hello' }), PERSON) })
  assert.equal(note.text, 'hello')
  assert.equal(note.name, 'Dr Cee')
  for (const text of ['plain words', '{"not": "an entry"}', '{broken', JSON.stringify({ v: 'peerpacs/case-entry/1', kind: 'measurement', account: 'x', name: 'y', measurement: { tool: 'circle' } })]) {
    assert.deepEqual(decodeEntry({ id: '1:0', author: SITE, time: 5, text }), { id: '1:0', kind: 'note', site: SITE, account: null, name: null, time: 5, text })
  }
})

test('parseNewEntry refuses wrong-typed input, naming the field and what arrived', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /"kind" must be "note" or "measurement", got undefined/],
    [{ kind: 3 }, /got number/],
    [{ kind: 'note' }, /"text" must be text, got undefined/],
    [{ kind: 'note', text: ['a'] }, /"text" must be text, got an array of 1/],
    [{ kind: 'measurement' }, /"measurement" must be an object, got undefined/],
    [{ kind: 'measurement', measurement: [] }, /"measurement" must be an object, got an array of 0/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, points: ELLIPSE.points.slice(0, 2) } }, /must be 4 points \[x, y\] for ellipse, got an array of 2/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, points: [[1, 2], [1, 2], [1, 2], [1, Infinity]] } }, /points\[3\]\[1\]" must be a finite number/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, frame: 1.5 } }, /"measurement.frame" must be a whole number from 1, got 1.5/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, unit: '' } }, /"measurement.unit" must be text of 1 to 16 characters/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, text: 5 } }, /"measurement.text" must be text of at most 500 characters/],
    [{ kind: 'measurement', measurement: { ...ELLIPSE, sopInstanceUid: '1.2.' } }, /sopInstanceUid" must be a UID/]
  ]
  for (const [body, message] of cases) {
    assert.throws(() => parseNewEntry(body), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'BAD_REQUEST')
      assert.match(error.message, message)
      return true
    }, JSON.stringify(body))
  }
})

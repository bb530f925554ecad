/**
 * The worklist's query (viewer/src/worklist-query.ts): the address round-trips, and the QIDO-RS
 * request it makes — wildcards around names and IDs, a typed backslash never becoming a DICOM
 * list, dates as one day, a range or an open range, the counts asked for, one row more than a page.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashOf, PAGE_SIZE, qidoOf, queryFrom, type WorklistQuery } from '../../../viewer/src/worklist-query.ts'

const EMPTY: WorklistQuery = { name: '', id: '', from: '', to: '', offset: 0 }

function params (q: WorklistQuery): URLSearchParams {
  const url = qidoOf(q)
  assert.ok(url.startsWith('/dicomweb/studies?'), url)
  return new URL(url, 'http://x').searchParams
}

test('the address holds the search and page, and reads back the same', () => {
  assert.equal(hashOf(EMPTY), '#/')
  const q: WorklistQuery = { name: 'doe jane', id: 'PPX-1', from: '2024-01-01', to: '2024-01-31', offset: 50 }
  const hash = hashOf(q)
  assert.equal(hash, '#/?name=doe+jane&id=PPX-1&from=2024-01-01&to=2024-01-31&offset=50')
  assert.deepEqual(queryFrom(new URLSearchParams(hash.slice(3))), q)
  // A hand-edited address: a bad offset is the first page.
  for (const offset of ['-5', '2.5', 'x', '']) assert.equal(queryFrom(new URLSearchParams({ offset })).offset, 0, offset)
})

test('names match anywhere, word by word; IDs anywhere; a typed backslash is not a DICOM list', () => {
  assert.equal(params({ ...EMPTY, name: '  Doe,  Jane ' }).get('PatientName'), '*Doe*Jane*')
  assert.equal(params({ ...EMPTY, name: 'DOE^JANE' }).get('PatientName'), '*DOE*JANE*')
  assert.equal(params({ ...EMPTY, name: 'a\\b' }).get('PatientName'), '*a*b*')
  assert.equal(params({ ...EMPTY, id: ' PPX\\9 ' }).get('PatientID'), '*PPX9*')
  const none = params(EMPTY)
  assert.equal(none.get('PatientName'), null)
  assert.equal(none.get('PatientID'), null)
  assert.equal(none.get('StudyDate'), null)
})

test('dates: one day, a range, since, until', () => {
  assert.equal(params({ ...EMPTY, from: '2024-03-15', to: '2024-03-15' }).get('StudyDate'), '20240315')
  assert.equal(params({ ...EMPTY, from: '2024-03-01', to: '2024-03-31' }).get('StudyDate'), '20240301-20240331')
  assert.equal(params({ ...EMPTY, from: '2024-03-01' }).get('StudyDate'), '20240301-')
  assert.equal(params({ ...EMPTY, to: '2024-03-31' }).get('StudyDate'), '-20240331')
})

test('one row more than a page, from the offset, with the description, modalities and counts', () => {
  const p = params({ ...EMPTY, offset: 75 })
  assert.equal(p.get('limit'), String(PAGE_SIZE + 1))
  assert.equal(p.get('offset'), '75')
  assert.deepEqual(p.getAll('includefield'), ['00081030', '00080061', '00201206', '00201208'])
})

/**
 * Matching keys (node/query/match.ts, date-key.ts): several values in one key match when any of
 * them matches any stored value, per VR; dates and times are checked against the calendar and
 * the clock, reversed ranges refused, each refusal naming what was wrong; and a query with a
 * hostile wildcard over a 10,000-study catalogue does not hold the event loop.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CatalogInstance } from '../../../../node/query/attributes.ts'
import { checkKey, matches, QueryKeyError } from '../../../../node/query/match.ts'
import { memorySource } from '../../../../node/query/memory-source.ts'
import { runQuery } from '../../../../node/query/query.ts'

function refused (keyword: string, vr: string, key: string, message: RegExp): void {
  assert.throws(() => { checkKey(keyword, vr, key) }, (e: unknown) => e instanceof QueryKeyError && e.code === 'QUERY_KEY' && message.test(e.message), `${keyword}=${key}`)
}

test('a key with several values matches when any value matches any stored value', () => {
  assert.equal(matches('CS', 'CT\\MR', ['CT', 'SR']), true)
  assert.equal(matches('CS', 'CT\\MR', ['MR']), true)
  assert.equal(matches('CS', 'CT\\MR', ['US', 'SR']), false)
  assert.equal(matches('CS', 'CT\\MR', 'MR'), true)
  assert.equal(matches('CS', 'CT\\MR', undefined), false)
  assert.equal(matches('CS', 'C?\\X*', ['CR']), true, 'each value with its own wildcards')
  assert.equal(matches('CS', 'CT\\', ['CT']), true, 'an empty value in the list is left out')
  assert.equal(matches('PN', 'doe^jane\\SMITH*', 'Smith^John'), true)
  assert.equal(matches('PN', 'doe^jane\\SMITH*', 'DOE^JANE'), true)
  assert.equal(matches('PN', 'doe^jane\\SMITH*', 'Doe^John'), false)
  assert.equal(matches('UI', '1.2.3\\1.2.4', '1.2.4'), true)
  assert.equal(matches('UI', '1.2.3\\1.2.4', '1.2.44'), false)
  assert.equal(matches('IS', '2\\3', 3), true)
  assert.equal(matches('IS', '2\\3', '4'), false)
  assert.equal(matches('US', '512\\256', 256), true)
  assert.equal(matches('LO', 'CHEST, PA', 'CHEST, PA'), true, 'a comma is part of a text value')
  assert.equal(matches('CS', 'CT', ['CT', 'MR']), true, 'a stored list matches a single value')
})

test('single values keep their old meaning', () => {
  assert.equal(matches('PN', 'DOE^JANE', 'doe^jane'), true)
  assert.equal(matches('LO', 'abc', 'ABC'), false)
  assert.equal(matches('LO', 'a*c', 'abc '), true, 'stored values are trimmed')
  assert.equal(matches('DA', '20200101-20200131', '20200131'), true)
  assert.equal(matches('DA', '20200101-20200131', '20200201'), false)
  assert.equal(matches('DA', '-20200131', '1997.04.24'), true, 'an old-style stored date still compares')
  assert.equal(matches('TM', '0900-1000', '093000.5'), true)
  assert.equal(matches('TM', '0930', '09:30:00'), true)
  assert.equal(matches('CS', '', undefined), true, 'universal matching')
  assert.equal(matches('CS', '*', undefined), true)
})

test('dates are checked against the calendar', () => {
  for (const ok of ['20200229', '20000229', '20201231', '20200101-20201231', '20200101-', '-20200101', '20200101-20200101', '19700101']) checkKey('StudyDate', 'DA', ok)
  refused('StudyDate', 'DA', '20201301', /StudyDate: month 13 in 20201301 \(months are 01-12\)/)
  refused('StudyDate', 'DA', '20200001', /month 00/)
  refused('StudyDate', 'DA', '20200230', /day 30 in 20200230 \(February 2020 has 29 days\)/)
  refused('StudyDate', 'DA', '20190229', /February 2019 has 28 days/)
  refused('StudyDate', 'DA', '19000229', /February 1900 has 28 days/)
  refused('StudyDate', 'DA', '20200431', /April 2020 has 30 days/)
  refused('StudyDate', 'DA', '20200100', /day 00/)
  refused('StudyDate', 'DA', '20200101-20201301', /month 13/)
  refused('StudyDate', 'DA', '2024XX01', /"2024XX01" is not a date; expected YYYYMMDD/)
  refused('StudyDate', 'DA', '2020.01.01', /not a date/)
  refused('StudyDate', 'DA', '-', /needs a start, an end or both/)
  refused('StudyDate', 'DA', '20200101-20200102-20200103', /more than one "-"/)
  refused('PatientBirthDate', 'DA', '20201231-20200101', /PatientBirthDate: reversed range 20201231-20200101 \(start after end\)/)
  refused('StudyDate', 'DA', '20200101\\20200102', /StudyDate: a list of dates; give one date or one range/)
  refused('StudyDate', 'DA', '*', /not a date/)
})

test('times are checked against the clock', () => {
  for (const ok of ['09', '0930', '093000', '093000.123456', '235960', '09:30', '09:30:00.5', '0900-1000', '0900-', '-1000', '1000-10']) checkKey('StudyTime', 'TM', ok)
  refused('StudyTime', 'TM', '2400', /hour 24 in 2400 \(hours are 00-23\)/)
  refused('StudyTime', 'TM', '0960', /minute 60/)
  refused('StudyTime', 'TM', '093061', /second 61/)
  refused('StudyTime', 'TM', '0930.5', /not a time/)
  refused('StudyTime', 'TM', '093000.1234567', /not a time/)
  refused('StudyTime', 'TM', '9', /not a time/)
  refused('StudyTime', 'TM', '2300-0100', /reversed range 2300-0100/)
  refused('StudyTime', 'TM', '10-0930', /reversed range/)
})

test('other VRs check each value of a list', () => {
  checkKey('SOPInstanceUID', 'UI', '1.2.3\\1.2.4')
  refused('SOPInstanceUID', 'UI', '1.2.3\\1.2.x', /"1.2.x" is not a UID/)
  refused('SeriesNumber', 'IS', '1\\two', /"two" is not an integer/)
  refused('Rows', 'US', 'abc', /"abc" is not an unsigned integer/)
  refused('ModalitiesInStudy', 'CS', '\\\\', /only separators/)
  refused('PatientName', 'PN', 'A'.repeat(1025), /longer than 1024/)
})

/** `count` studies of one instance each; names and descriptions of 64 characters. */
function catalogue (count: number): CatalogInstance[] {
  return Array.from({ length: count }, (_, n) => ({
    storedIn: n.toString(16).padStart(32, '0'),
    studyInstanceUid: `1.2.826.0.1.3680043.10.1.${n}`,
    seriesInstanceUid: `1.2.826.0.1.3680043.10.2.${n}`,
    sopInstanceUid: `1.2.826.0.1.3680043.10.3.${n}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    modality: ['CT', 'MR', 'US', 'CR'][n % 4],
    patientName: `ZZTEST^PATIENT${n}^`.padEnd(64, 'A'),
    patientId: `PID${n}`,
    studyDate: `2020${String(1 + n % 12).padStart(2, '0')}${String(1 + n % 28).padStart(2, '0')}`,
    studyDescription: 'D'.repeat(64)
  }) as unknown as CatalogInstance)
}

test('a hostile wildcard over 10,000 studies holds the event loop only briefly', async () => {
  const studies = memorySource(catalogue(10_000))
  const hostile: Record<string, string> = {
    PatientName: '*'.repeat(1023) + '!',
    StudyDescription: '*D'.repeat(32) + '*!',
    AccessionNumber: '*?'.repeat(512)
  }
  for (const [keyword, key] of Object.entries(hostile)) {
    const started = performance.now()
    const result = await runQuery(studies, 'STUDY', { [keyword]: key })
    const ms = performance.now() - started
    console.log(`# STUDY query ${keyword}=${JSON.stringify(key.slice(0, 16))}… (${key.length} chars) over 10,000 studies: ${ms.toFixed(1)} ms (${(ms / 10).toFixed(2)} ms per thousand), ${result.total} rows`)
    assert.equal(result.total, 0)
    assert.ok(ms < 2000, `${ms.toFixed(0)} ms`)
  }
  const started = performance.now()
  const some = await runQuery(studies, 'STUDY', { ModalitiesInStudy: 'CT\\MR', PatientName: 'zztest^patient1*' })
  const ms = performance.now() - started
  console.log(`# STUDY query ModalitiesInStudy=CT\\MR&PatientName=zztest^patient1* over 10,000 studies: ${ms.toFixed(1)} ms, ${some.total} rows`)
  assert.ok(some.total > 0 && some.rows.every((r) => (r.ModalitiesInStudy as string[]).some((m) => m === 'CT' || m === 'MR')))
})

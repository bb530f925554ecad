/**
 * The per-request bounds of the DICOMweb edge as pure functions (issue 12 items 4 and 11): a
 * frame list names each frame once and at most MAX_FRAMES; a multipart boundary is 1 to
 * MAX_BOUNDARY printable characters, not ending in a space. Each refusal says which rule.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { frameList, MAX_FRAMES } from '../../../../node/dicomweb/instance-data.ts'
import { checkBoundary, MAX_BOUNDARY, readMultipart } from '../../../../node/dicomweb/multipart.ts'
import { ascending } from '../../../../node/dicomweb/native-frames.ts'

const problem = (status: number, pattern: RegExp) => (e: unknown): boolean => (e as { status: number }).status === status && pattern.test((e as Error).message)

test('frame lists: in range, each once, at most MAX_FRAMES', () => {
  assert.deepEqual(frameList('3,1,2', 3), [3, 1, 2])
  assert.deepEqual(frameList(Array.from({ length: MAX_FRAMES }, (_, i) => i + 1).join(','), MAX_FRAMES), Array.from({ length: MAX_FRAMES }, (_, i) => i + 1))
  assert.throws(() => frameList('1,1', 5), problem(400, /frame 1 is named more than once/))
  assert.throws(() => frameList(Array.from({ length: 1000 }, () => '1').join(','), 5), problem(400, /named more than once/))
  assert.throws(() => frameList(Array.from({ length: MAX_FRAMES + 1 }, (_, i) => i + 1).join(','), 5000), problem(400, new RegExp(`names ${MAX_FRAMES + 1} frames; peerpacs sends at most ${MAX_FRAMES}`)))
  assert.throws(() => frameList('0', 5), problem(400, /start at 1/))
  assert.throws(() => frameList('6', 5), problem(404, /frame 6 does not exist/))
  for (const bad of ['', ',', '1,', 'a', '1;2', '1 2', '-1']) assert.throws(() => frameList(bad, 5), problem(400, /1-based frame numbers/), bad)
})

test('frames in ascending order are cut in one pass; any other order is not', () => {
  assert.equal(ascending([1, 2, 200]), true)
  assert.equal(ascending([7]), true)
  assert.equal(ascending([2, 1]), false)
})

test(`boundaries: 1 to ${MAX_BOUNDARY} printable characters, not ending in a space`, async () => {
  for (const ok of ['a', 'x'.repeat(70), `${'0'.repeat(36)}-${'f'.repeat(36)}`, "'()+_,-./:=? z", 'x'.repeat(MAX_BOUNDARY)]) checkBoundary(ok)
  assert.throws(() => checkBoundary(''), /empty boundary/)
  assert.throws(() => checkBoundary('x'.repeat(MAX_BOUNDARY + 1)), new RegExp(`${MAX_BOUNDARY + 1} characters long; peerpacs accepts up to ${MAX_BOUNDARY}`))
  assert.throws(() => checkBoundary('ends with space '), /ends with a space/)
  assert.throws(() => checkBoundary('tab\there'), /printable ASCII/)
  assert.throws(() => checkBoundary('é'), /printable ASCII/)
  // The reader applies the same rule before reading anything.
  const body = (async function * () { yield new Uint8Array(0) })()
  await assert.rejects(async () => { for await (const part of readMultipart(body, 'x'.repeat(MAX_BOUNDARY + 1))) void part }, /characters long/)
})

/**
 * protocol/study-id.ts: study ids are 32 lowercase hex digits of 16 random bytes, and isStudyId
 * recognises exactly that shape.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isStudyId, newStudyId } from '../../../protocol/study-id.ts'
import { platformRandom } from '../../../protocol/random.ts'
import { fixedRandom, sequence } from './helpers.ts'

test('newStudyId is the hex of 16 random bytes', () => {
  assert.equal(newStudyId(fixedRandom(sequence(0xf0, 16))), 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff')
  const id = newStudyId(platformRandom)
  assert.ok(isStudyId(id))
  assert.notEqual(newStudyId(platformRandom), id)
})

test('isStudyId accepts only 32 lowercase hex digits', () => {
  assert.ok(isStudyId('0123456789abcdef0123456789abcdef'))
  for (const bad of ['', '0123456789ABCDEF0123456789ABCDEF', '0123456789abcdef0123456789abcde', '0123456789abcdef0123456789abcdef0', '0123456789abcdef0123456789abcdeg', ' 0123456789abcdef0123456789abcde', 12, null, undefined, ['0123456789abcdef0123456789abcdef']]) {
    assert.equal(isStudyId(bad), false, JSON.stringify(bad))
  }
})

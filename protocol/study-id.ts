/** Opaque study ids: random, so they say nothing about the patient or the StudyInstanceUID. */
import { draw, type RandomSource } from './random.ts'
import { toHex } from './encoding.ts'

export type StudyId = string & { readonly __brand: 'StudyId' }

export function newStudyId (random: RandomSource): StudyId {
  return toHex(draw(random, 16, 'newStudyId')) as StudyId
}

export function isStudyId (value: unknown): value is StudyId {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)
}

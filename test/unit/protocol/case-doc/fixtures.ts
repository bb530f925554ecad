/**
 * Shared pieces of the case-doc tests: members and a study from a seeded PRNG, a seeded
 * shuffle, and a hand encoder for Yjs v1 updates, to build updates Yjs itself would never write.
 */
import { nobleProvider } from '../../../../protocol/crypto-provider.ts'
import { caseClientId } from '../../../../protocol/case-doc/client-id.ts'
import type { StudyId } from '../../../../protocol/study-id.ts'
import { hx, Rng } from '../helpers.ts'

export const p = nobleProvider
export const study = hx(new Rng(1).bytes(16)) as StudyId
export const otherStudy = hx(new Rng(2).bytes(16)) as StudyId
export const org = hx(new Rng(3).bytes(32))

export function members (n: number, seed = 10): Uint8Array[] {
  const rng = new Rng(seed)
  return Array.from({ length: n }, () => rng.bytes(32))
}

export const idOf = (member: Uint8Array, s: StudyId = study): number => caseClientId(p, member, s)

export function shuffle<T> (items: readonly T[], rng: Rng): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Writes the pieces of a Yjs v1 update by hand (lib0 varuint / varstring encoding). */
export class Raw {
  readonly bytes: number[] = []

  uint (n: number): this {
    while (n > 0x7f) { this.bytes.push(0x80 | (n % 128)); n = Math.floor(n / 128) }
    this.bytes.push(n)
    return this
  }

  byte (b: number): this { this.bytes.push(b); return this }

  string (s: string): this {
    const b = new TextEncoder().encode(s)
    this.uint(b.length)
    this.bytes.push(...b)
    return this
  }

  /** One section header: `count` structs of `client` from `clock`. */
  section (count: number, client: number, clock: number): this { return this.uint(count).uint(client).uint(clock) }

  /** A root-level item: a string `text` in the root type `root`. */
  rootString (root: string, text: string): this { return this.byte(4).uint(1).string(root).string(text) }

  /** An item after `origin` holding the string `text` (its parent comes from the origin). */
  stringAfter (origin: [number, number], text: string): this { return this.byte(0x80 | 4).uint(origin[0]).uint(origin[1]).string(text) }

  /** A delete set: [client, [[clock, len], …]] per client. */
  deletes (entries: Array<[number, Array<[number, number]>]>): this {
    this.uint(entries.length)
    for (const [client, ranges] of entries) {
      this.uint(client).uint(ranges.length)
      for (const [clock, len] of ranges) this.uint(clock).uint(len)
    }
    return this
  }

  done (): Uint8Array { return new Uint8Array(this.bytes) }
}

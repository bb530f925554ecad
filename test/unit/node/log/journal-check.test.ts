/**
 * `log verify`'s journal check (node/log/journal-check.ts) over a streamed journal: the entries
 * arrive one by one (never as an array), and every kind of damage is still found, in the same
 * order, with the same words, whether they come as a stream or a list. And the per-author seq ranges (seq-ranges.ts) it keeps instead of every seq.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkJournal, type JournalEntry, type JournalProgress, type LogCheck } from '../../../../node/log/journal-check.ts'
import { SeqRanges } from '../../../../node/log/seq-ranges.ts'
import { provider } from '../../../../node/runtime.ts'
import type { SignedOp } from '../../../../protocol/log/index.ts'
import { World } from '../../protocol/log/fixtures.ts'

const short = (id: string): string => id.slice(0, 16)

type Damaged = { entries: JournalEntry[], genesis: Uint8Array, names: Record<string, string> }
let made: Damaged | undefined

/** 1300 audit ops of the founder (all but one on the genesis op alone), then damage of every kind (made once). */
function damagedJournal (): Damaged {
  made ??= makeDamagedJournal()
  return made
}

function makeDamagedJournal (): Damaged {
  const w = new World(7)
  const a = w.founder
  const onGenesis = { parents: [w.genesis.id] }
  const ops: SignedOp[] = []
  for (let i = 0; i < 1300; i++) {
    ops.push(a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([i & 0xff, i >> 8]) }, i === 31 ? { parents: [ops[30]!.id] } : onGenesis))
  }
  const orphan = a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([1]) }, { parents: [ops[10]!.id] })
  const foreign = new World(8).founder.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([2]) })
  const fork1 = a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([3]) }, onGenesis)
  const fork2 = a.write('audit.event', { epoch: w.genesis.id, sealed: new Uint8Array([4]) }, { ...onGenesis, seq: fork1.seq })
  const entries: JournalEntry[] = []
  for (const [i, op] of ops.entries()) {
    if (i === 10) continue // deleted
    let bytes = op.bytes
    if (i === 20) { bytes = new Uint8Array(bytes); bytes[bytes.length - 1]! ^= 1 } // a flipped signature bit
    if (i === 30 || i === 31) bytes = ops[61 - i]!.bytes // swapped with its child
    entries.push({ position: i, bytes })
  }
  for (const op of [orphan, foreign, fork1, fork2]) entries.push({ position: entries.length + 1, bytes: op.bytes })
  return { entries, genesis: w.genesis.bytes, names: { author: a.id, orphan: orphan.idHex, deleted: ops[10]!.idHex, foreign: foreign.idHex, child: ops[31]!.idHex } }
}

async function * stream (entries: readonly JournalEntry[]): AsyncIterable<JournalEntry> {
  for (const entry of entries) yield entry
}

const brief = (check: LogCheck): string[] => check.problems.map((p) => `${p.kind} ${p.object}`)

describe('the journal check streams the journal', () => {
  test('every kind of damage is found in order, from a stream as from a list', async () => {
    const { entries, genesis, names } = damagedJournal()
    const progress: JournalProgress[] = []
    const check = await checkJournal(provider, genesis, stream(entries), { onProgress: (p) => progress.push(p) })
    assert.deepEqual(brief(check), [
      'journal-gap journal 10',
      'op-damaged journal 20',
      `wrong-org op ${names.foreign}`,
      'journal-order journal 30',
      `missing-parent op ${names.orphan}`,
      `seq-gap author ${names.author}`,
      `fork author ${names.author}`
    ])
    const message = (kind: string): string => check.problems.find((p) => p.kind === kind)!.message
    assert.equal(message('journal-gap'), 'journal entry 10 is missing: an op was deleted from the log')
    assert.match(message('op-damaged'), /^the op stored at journal entry 20 does not verify \(signature\): /)
    assert.equal(message('journal-order'), `the audit.event op by ${names.author} (seq 33) at journal entry 30 comes before its parent at entry 31: journal entries were reordered`)
    assert.equal(message('missing-parent'), `audit.event op (journal 1300, by ${names.author} seq 1302) cannot be placed: its parent ${short(names.deleted!)} is not in the log`)
    assert.equal(message('seq-gap'), `the ops of ${names.author} are not a contiguous chain: seq 12, 22 are missing (held: 1–11, 13–21, 23–1303); an op was removed`)
    assert.equal(check.entries, entries.length)
    assert.equal(check.authors, 1)
    assert.equal(check.incrementalDigest, check.replayDigest)
    assert.deepEqual(progress, [{ phase: 'ops', entries: 1024 }, { phase: 'ops', entries: entries.length }, { phase: 'replay', entries: entries.length }])

    const alone = await checkJournal(provider, genesis, entries)
    assert.deepEqual(alone.problems, check.problems)
    assert.deepEqual(alone.rejected, check.rejected)
    assert.equal(alone.incrementalDigest, check.incrementalDigest)
    assert.equal(alone.ops, check.ops)
  })

  test('a journal that starts late says how many entries are missing before it', async () => {
    const { entries, genesis } = damagedJournal()
    const check = await checkJournal(provider, genesis, entries.slice(3))
    assert.deepEqual(check.problems.filter((p) => p.kind === 'journal-gap').map((p) => [p.object, p.message]), [
      ['journal 10', 'journal entry 10 is missing: an op was deleted from the log'],
      ['journal 0–2', 'the first 3 journal entries are missing: ops were deleted from the log']
    ])
  })
})

describe('SeqRanges', () => {
  /** What the check printed before: every seq, sorted, in runs. */
  function runs (seqs: number[]): string {
    const out: string[] = []
    let start = seqs[0]!
    let prev = start
    for (const s of [...seqs.slice(1), Number.NaN]) {
      if (s === prev + 1) { prev = s; continue }
      out.push(start === prev ? String(start) : `${start}–${prev}`)
      start = s
      prev = s
    }
    return out.join(', ')
  }

  test('agrees with a Set of every seq, whatever the order of arrival', () => {
    let seed = 5
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    for (let round = 0; round < 200; round++) {
      const ranges = new SeqRanges()
      const held = new Set<number>()
      const count = 1 + next(60)
      for (let k = 0; k < count; k++) {
        const s = round % 2 === 0 ? 1 + next(80) : Math.max(1, k + 1 - next(3) + (next(10) === 0 ? 5 : 0))
        ranges.add(s)
        held.add(s)
      }
      const sorted = [...held].sort((x, y) => x - y)
      const missing: number[] = []
      for (let s = 1; s <= sorted.at(-1)!; s++) if (!held.has(s)) missing.push(s)
      assert.equal(ranges.text(), runs(sorted))
      assert.deepEqual(ranges.missing(), { count: missing.length, text: missing.length === 0 ? '' : runs(missing) })
    }
  })

  test('an intact chain is one range, however long', () => {
    const ranges = new SeqRanges(1)
    for (let s = 2; s <= 100_000; s++) ranges.add(s)
    assert.equal(ranges.text(), '1–100000')
    assert.deepEqual(ranges.missing(), { count: 0, text: '' })
  })
})

/**
 * The seqs of one author seen in a journal, as sorted maximal ranges (for `log verify`'s chain
 * check): an intact chain 1..n is one range whatever n, so memory grows with the holes, not with
 * the ops. Seqs arrive mostly in order; one out of order is placed by binary search.
 */

export class SeqRanges {
  /** starts[i]..ends[i], inclusive, ascending, neither overlapping nor touching. */
  readonly #starts: number[] = []
  readonly #ends: number[] = []

  constructor (first?: number) {
    if (first !== undefined) this.add(first)
  }

  add (seq: number): void {
    const starts = this.#starts
    const ends = this.#ends
    const last = ends.length - 1
    if (last >= 0 && seq === ends[last]! + 1) { ends[last] = seq; return }
    if (last >= 0 && seq >= starts[last]! && seq <= ends[last]!) return
    // The first range that ends at or after seq - 1 (it may take seq, or come after it).
    let lo = 0
    let hi = ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (ends[mid]! < seq - 1) lo = mid + 1
      else hi = mid
    }
    if (lo === ends.length || starts[lo]! > seq + 1) { starts.splice(lo, 0, seq); ends.splice(lo, 0, seq); return }
    if (seq >= starts[lo]! && seq <= ends[lo]!) return
    if (seq === ends[lo]! + 1) {
      ends[lo] = seq
      if (lo + 1 < starts.length && starts[lo + 1] === seq + 1) { ends[lo] = ends[lo + 1]!; starts.splice(lo + 1, 1); ends.splice(lo + 1, 1) }
      return
    }
    starts[lo] = seq // seq === starts[lo] - 1
  }

  /** The ranges held, as "1–4, 6, 9–12". */
  text (): string {
    return this.#starts.map((s, i) => format(s, this.#ends[i]!)).join(', ')
  }

  /** The seqs missing from 1 up to the highest held: how many, and as ranges. */
  missing (): { count: number, text: string } {
    const parts: string[] = []
    let count = 0
    let next = 1
    for (const [i, start] of this.#starts.entries()) {
      if (start > next) { parts.push(format(next, start - 1)); count += start - next }
      next = this.#ends[i]! + 1
    }
    return { count, text: parts.join(', ') }
  }
}

function format (start: number, end: number): string {
  return start === end ? String(start) : `${start}–${end}`
}

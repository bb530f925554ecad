/** Cutting bytes into pieces, to feed streaming code the way a network or disk would. */

/** Cuts `data` into pieces of random sizes in [1, maxPiece] (subarrays, no copies). */
export function randomPieces (data: Uint8Array, rng: { int (min: number, max: number): number }, maxPiece: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 0
  while (offset < data.length) {
    const n = Math.min(data.length - offset, rng.int(1, maxPiece))
    out.push(data.subarray(offset, offset + n))
    offset += n
  }
  return out
}

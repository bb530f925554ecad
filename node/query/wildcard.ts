/**
 * DICOM wild card matching (PS3.4 C.2.2.2.4) without regular expressions: `*` matches any run
 * of characters (also none), `?` exactly one character (a code point), everything else itself.
 *
 * A pattern is compiled once per query into the literal segments between its stars
 * (`A*B?C*D` → `A`, `B?C`, `D`). A value matches when the first segment is its prefix (unless
 * the pattern starts with `*`), the last its suffix (unless it ends with `*`), and the middle
 * segments occur in order, without overlapping, in between. Taking each middle segment at its
 * leftmost place after the previous one is enough: a later place leaves strictly less room to
 * the rest, so if any placement works the leftmost one does. There is no backtracking across
 * stars, so the work per value is at most (value length × longest segment) comparisons, and a
 * pattern whose fixed characters outnumber the value's is refused before any comparison. Runs
 * of stars collapse into one.
 *
 * Case-insensitive matching (person names) folds each character as JavaScript's
 * case-insensitive regular expressions without the `u` flag did before this module replaced
 * them (ES Canonicalize): a character is replaced by its upper case when that is a single
 * character, and a non-ASCII character never folds to an ASCII one (so `ß`, `ı`, `ſ` and the
 * Kelvin sign stay themselves). Characters outside the Basic Multilingual Plane are not folded.
 */

const ANY = -1

export interface WildcardOptions {
  readonly ignoreCase?: boolean
}

const folded = new Map<number, number>()

/** The case-folded code point, as a non-unicode `/i` regular expression compares them. */
export function foldCase (cp: number): number {
  if (cp < 0x80) return cp >= 0x61 && cp <= 0x7a ? cp - 0x20 : cp
  if (cp > 0xffff) return cp
  let f = folded.get(cp)
  if (f === undefined) {
    const upper = String.fromCharCode(cp).toUpperCase()
    f = upper.length !== 1 || upper.charCodeAt(0) < 0x80 ? cp : upper.charCodeAt(0)
    if (folded.size < 65536) folded.set(cp, f)
  }
  return f
}

function codePoints (text: string, ignoreCase: boolean): number[] {
  const out: number[] = []
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    out.push(ignoreCase ? foldCase(cp) : cp)
  }
  return out
}

/** Whether `segment` matches `text` at `at` (the caller checked that it fits). */
function segmentAt (segment: readonly number[], text: readonly number[], at: number): boolean {
  for (let k = 0; k < segment.length; k++) {
    const p = segment[k]!
    if (p !== ANY && p !== text[at + k]) return false
  }
  return true
}

/**
 * Whether `value` cannot start with `head`, told from its first UTF-16 units without converting it:
 * false when they match or when a surrogate pair comes first (the full comparison decides then).
 * A BMP character is its own code point, and folds as foldCase says.
 */
function headMismatch (head: readonly number[], value: string, ignoreCase: boolean): boolean {
  const n = Math.min(head.length, value.length)
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdfff) return false
    const p = head[i]!
    if (p !== ANY && p !== (ignoreCase ? foldCase(c) : c)) return true
  }
  return false
}

/** A predicate that tells whether a value matches `pattern`; compile once, test many values. */
export function compileWildcard (pattern: string, options: WildcardOptions = {}): (value: string) => boolean {
  const ignoreCase = options.ignoreCase === true
  const segments: number[][] = [[]]
  for (const ch of pattern) {
    if (ch === '*') { segments.push([]); continue }
    const cp = ch.codePointAt(0)!
    segments[segments.length - 1]!.push(ch === '?' ? ANY : ignoreCase ? foldCase(cp) : cp)
  }
  const fixed = segments.reduce((n, s) => n + s.length, 0)
  if (segments.length === 1) {
    // No star: the value must have exactly the pattern's length.
    const only = segments[0]!
    return (value) => {
      if (headMismatch(only, value, ignoreCase)) return false
      const text = codePoints(value, ignoreCase)
      return text.length === only.length && segmentAt(only, text, 0)
    }
  }
  const head = segments[0]!
  const tail = segments[segments.length - 1]!
  const middle = segments.slice(1, -1).filter((s) => s.length > 0)
  return (value) => {
    // A value shorter than the pattern's fixed part cannot match: no comparison needed.
    if (value.length < fixed) return false
    // Most values of a prefix query (SMITH*) differ in their first characters: no conversion then.
    if (headMismatch(head, value, ignoreCase)) return false
    const text = codePoints(value, ignoreCase)
    if (text.length < fixed) return false
    if (!segmentAt(head, text, 0)) return false
    const end = text.length - tail.length
    if (!segmentAt(tail, text, end)) return false
    let at = head.length
    for (const segment of middle) {
      const last = end - segment.length
      let found = -1
      for (let i = at; i <= last; i++) {
        if (segmentAt(segment, text, i)) { found = i; break }
      }
      if (found < 0) return false
      at = found + segment.length
    }
    return true
  }
}

/** Reads findscu -v output: the identifiers of the pending responses and the final status. */

export interface FindOutput {
  /** One map per pending response: keyword → value ('' when the attribute came back empty; a UID dcmtk knows by its name). */
  readonly matches: Array<Map<string, string>>
  /** As findscu names it: 'Success', 'Error: DataSetDoesNotMatchSOPClass', ... */
  readonly final: string | undefined
}

const LINE = /^I: \(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (?:\[(.*?)\]|=(\S+)|\(.*?\))\s+#\s*\S+,\s*\d+\s+(\w+)\s*$/

export function parseFindscu (stdout: string): FindOutput {
  const matches: Array<Map<string, string>> = []
  let current: Map<string, string> | undefined
  let final: string | undefined
  for (const line of stdout.split('\n')) {
    if (/^I: Find Response: \d+ \(Pending/.test(line)) {
      current = new Map()
      matches.push(current)
      continue
    }
    const end = /^I: Received Final Find Response \((.*)\)\s*$/.exec(line)
    if (end !== null) { final = end[1]; current = undefined; continue }
    if (/^I: (Sending Find Request|Request Identifiers)/.test(line)) { current = undefined; continue }
    const m = LINE.exec(line)
    // A UID dcmtk knows is printed by name (=CTImageStorage).
    if (m !== null && current !== undefined && m[6] !== 'SequenceDelimitationItem') current.set(m[6]!, (m[4] ?? m[5] ?? '').replace(/[\0 ]+$/, ''))
  }
  return { matches, final }
}

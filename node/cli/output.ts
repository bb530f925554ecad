/**
 * What a command says. Results go to stdout (as JSON lines with --json, so scripts can parse
 * them); warnings, errors and progress go to stderr. Progress shows only on a terminal and never
 * in --json mode, so logs and pipes stay clean.
 */

export interface OutputOptions {
  json: boolean
  stdout?: NodeJS.WriteStream
  stderr?: NodeJS.WriteStream
}

export class Output {
  readonly json: boolean
  readonly #stdout: NodeJS.WriteStream
  readonly #stderr: NodeJS.WriteStream
  readonly #progressEnabled: boolean
  #progressShown = false
  #lastProgress = 0

  constructor (options: OutputOptions) {
    this.json = options.json
    this.#stdout = options.stdout ?? process.stdout
    this.#stderr = options.stderr ?? process.stderr
    this.#progressEnabled = !options.json && this.#stderr.isTTY === true
  }

  /** A line of human-readable result (suppressed in --json mode). */
  line (text = ''): void {
    if (this.json) return
    this.#clearProgress()
    this.#stdout.write(text + '\n')
  }

  /** A JSON record (only in --json mode). */
  record (value: unknown): void {
    if (!this.json) return
    this.#stdout.write(JSON.stringify(value) + '\n')
  }

  /** A record already serialised as one JSON object on one line (only in --json mode); written as is. */
  recordLine (line: string): void {
    if (!this.json) return
    this.#stdout.write(line + '\n')
  }

  warn (text: string): void {
    this.#clearProgress()
    this.#stderr.write(`warning: ${text}\n`)
  }

  error (text: string, hint?: string): void {
    this.#clearProgress()
    this.#stderr.write(`error: ${text}\n`)
    if (hint !== undefined) this.#stderr.write(`  hint: ${hint}\n`)
  }

  /** A transient status line, rewritten in place, at most ten times a second. */
  progress (text: string, force = false): void {
    if (!this.#progressEnabled) return
    const now = performance.now()
    if (!force && now - this.#lastProgress < 100) return
    this.#lastProgress = now
    const width = this.#width()
    this.#stderr.write('\r' + text.slice(0, width).padEnd(this.#progressShown ? width : 0))
    this.#progressShown = true
  }

  done (): void { this.#clearProgress() }

  /** Usable line width; a terminal that reports no size (0) gets 80 columns. */
  #width (): number {
    const columns = this.#stderr.columns
    return Math.max(20, (columns !== undefined && columns > 0 ? columns : 80) - 1)
  }

  #clearProgress (): void {
    if (!this.#progressShown) return
    this.#stderr.write('\r' + ' '.repeat(this.#width()) + '\r')
    this.#progressShown = false
  }
}

export function formatBytes (n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++ }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`
}

export function formatRate (bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : '-'
}

/** `n` and its noun, singular for one: plural(1, 'study', 'studies') is "1 study". */
export function plural (n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** Rows as aligned columns (two spaces apart; the last column is not padded). */
export function formatTable (rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

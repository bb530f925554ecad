/**
 * Structured logs: one JSON object per line, per event, on stderr (or a given sink). Events name
 * what happened with identifiers that carry no PHI (AE titles, addresses, study ids, counts,
 * statuses, error codes). Patient names, IDs and DICOM UIDs never go to a log: a log is read by
 * whoever runs the machine, and shipped to wherever they ship logs.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  debug: (event: string, fields?: LogFields) => void
  info: (event: string, fields?: LogFields) => void
  warn: (event: string, fields?: LogFields) => void
  error: (event: string, fields?: LogFields) => void
  /** A logger whose lines all carry `fields` too (a component, an association id). */
  child: (fields: LogFields) => Logger
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  readonly level?: LogLevel
  readonly write?: (line: string) => void
  readonly now?: () => Date
}

export function createLogger (options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const threshold = RANK[options.level ?? 'info']
  const write = options.write ?? ((line: string) => { process.stderr.write(line) })
  const now = options.now ?? (() => new Date())
  const emit = (level: LogLevel) => (event: string, fields: LogFields = {}): void => {
    if (RANK[level] < threshold) return
    const record: Record<string, unknown> = { time: now().toISOString(), level, event }
    for (const [k, v] of Object.entries({ ...base, ...fields })) if (v !== undefined) record[k] = v
    write(JSON.stringify(record) + '\n')
  }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(options, { ...base, ...fields })
  }
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = createLogger({ write: () => {} })

/**
 * A password for the CLI, never from the command line (it would land in the shell's history and
 * in `ps`): from a file (--password-file FILE), from stdin (--password-stdin), or typed at a
 * terminal without echo, twice. From a file or stdin one trailing newline (\n or \r\n) is
 * removed and nothing else; the text is checked by the password policy where it is used.
 */
import { open } from 'node:fs/promises'
import { UsageError } from './command.ts'

/** More than this is not a password (the policy allows 1024 characters; UTF-8 takes up to 4 bytes each). */
const MAX_BYTES = 8192

export interface PasswordSource {
  /** --password-file's value. */
  readonly file?: string | undefined
  /** --password-stdin was given. */
  readonly stdin?: boolean | undefined
  /** Flag names for messages, e.g. "--password-file" / "--password-stdin". */
  readonly flags: { readonly file: string, readonly stdin: string }
}

export interface PasswordIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: (raw: boolean) => unknown }
  readonly stderr: NodeJS.WritableStream
}

const PROCESS_IO: PasswordIo = { stdin: process.stdin, stderr: process.stderr }

function withoutNewline (text: string): string {
  return text.replace(/\r?\n$/, '')
}

function checked (text: string, from: string): string {
  if (text.length === 0) throw new UsageError(`the password read from ${from} is empty`, 'put the password on its first line')
  if (/[\r\n]/.test(text)) throw new UsageError(`the password read from ${from} has more than one line`, 'put only the password there, on one line')
  return text
}

async function readBounded (chunks: AsyncIterable<Uint8Array | string>, from: string): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)
    size += bytes.length
    if (size > MAX_BYTES) throw new UsageError(`${from} holds more than ${MAX_BYTES} bytes: that is not a password`, 'put only the password there, on one line')
    parts.push(bytes)
  }
  return Buffer.concat(parts).toString('utf8')
}

async function fromFile (file: string): Promise<string> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read the password file ${file}: ${code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`, 'give a file that holds the password on its first line')
  }
  try {
    return checked(withoutNewline(await readBounded(handle.createReadStream({ autoClose: false }), `the password file ${file}`)), `the password file ${file}`)
  } finally {
    await handle.close()
  }
}

/** Reads one line typed at the terminal without echoing it. Ctrl-C cancels, Ctrl-D on an empty line too. */
export async function promptHidden (label: string, io: PasswordIo = PROCESS_IO): Promise<string> {
  const { stdin, stderr } = io
  // No echo before the label shows: what is typed after it is never on the screen.
  stdin.setRawMode?.(true)
  stderr.write(label)
  stdin.setEncoding?.('utf8')
  stdin.resume()
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = ''
      const done = (error?: Error): void => {
        stdin.off('data', onData)
        stdin.off('end', onEnd)
        stderr.write('\n')
        if (error === undefined) resolve(typed)
        else reject(error)
      }
      const onEnd = (): void => { done(new UsageError('no password was typed (end of input)')) }
      const onData = (chunk: string | Buffer): void => {
        for (const ch of String(chunk)) {
          if (ch === '\r' || ch === '\n') { done(); return }
          if (ch === '\u0003') { done(new UsageError('cancelled (Ctrl-C)')); return }
          if (ch === '\u0004' && typed === '') { done(new UsageError('no password was typed (Ctrl-D)')); return }
          if (ch === '\u007f' || ch === '\b') { typed = [...typed].slice(0, -1).join(''); continue }
          if (typed.length > MAX_BYTES) { done(new UsageError('that is too long for a password')); return }
          typed += ch
        }
      }
      stdin.on('data', onData)
      stdin.once('end', onEnd)
    })
  } finally {
    stdin.setRawMode?.(false)
    stdin.pause()
  }
}

/** Tries at a terminal before giving up on a password that `check` refuses. */
const TRIES = 3

export interface ReadPasswordOptions {
  /** Throws when the password is not acceptable (the policy); at a terminal, asked again. */
  readonly check?: (password: string) => void
  readonly io?: PasswordIo
}

/**
 * The password from the source given, or typed at a terminal (checked, then typed again to
 * confirm); undefined when none was given and stdin is not a terminal (the caller says what to
 * do). Both flags at once are refused.
 */
export async function readPassword (source: PasswordSource, prompt: string, options: ReadPasswordOptions = {}): Promise<string | undefined> {
  const io = options.io ?? PROCESS_IO
  const check = options.check ?? (() => undefined)
  if (source.file !== undefined && source.stdin === true) throw new UsageError(`give ${source.flags.file} or ${source.flags.stdin}, not both`)
  if (source.file !== undefined) {
    const password = await fromFile(source.file)
    check(password)
    return password
  }
  if (source.stdin === true) {
    if (io.stdin.isTTY === true) throw new UsageError(`${source.flags.stdin} reads a pipe, but stdin is a terminal`, `pipe the password in (e.g. \`... ${source.flags.stdin} < FILE\`), or leave the flag out to be asked for it`)
    const password = checked(withoutNewline(await readBounded(io.stdin as AsyncIterable<Uint8Array>, 'stdin')), 'stdin')
    check(password)
    return password
  }
  if (io.stdin.isTTY !== true) return undefined
  for (let attempt = 1; ; attempt++) {
    const first = await promptHidden(`${prompt}: `, io)
    if (first === '') throw new UsageError('no password was typed')
    try {
      check(first)
    } catch (error) {
      if (attempt >= TRIES) throw error
      const e = error as { message: string, hint?: string }
      io.stderr.write(`That password is refused: ${e.message}.${e.hint === undefined ? '' : ` ${e.hint[0]!.toUpperCase()}${e.hint.slice(1)}.`}\n`)
      continue
    }
    const again = await promptHidden('The same again: ', io)
    if (again !== first) throw new UsageError('the two passwords typed differ; nothing was changed', 'run the command again')
    return first
  }
}

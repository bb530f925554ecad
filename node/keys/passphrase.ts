/** Where the passphrase that seals a node's keys comes from: --passphrase-file, else PEERPACS_PASSPHRASE. */
import { readFile } from 'node:fs/promises'
import { PeerpacsError } from '../../protocol/errors.ts'

export class PassphraseFileError extends PeerpacsError {
  static readonly code = 'PASSPHRASE_FILE'
  constructor (message: string) { super(PassphraseFileError.code, message) }
}

export async function resolvePassphrase (passphraseFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (passphraseFile !== undefined) {
    let text: string
    try {
      text = await readFile(passphraseFile, 'utf8')
    } catch (error) {
      throw new PassphraseFileError(`cannot read passphrase file ${passphraseFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    // Editors and `echo` end the file with a newline; it is not part of the passphrase.
    const passphrase = text.replace(/\r?\n$/, '')
    if (passphrase === '') throw new PassphraseFileError(`passphrase file ${passphraseFile} is empty`)
    return passphrase
  }
  const fromEnv = env.PEERPACS_PASSPHRASE
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv
}

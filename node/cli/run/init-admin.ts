/**
 * The first admin account that `peerpacs init` makes (and the quick start with it), so a person
 * can sign in to a new org at once. Its password is read in the caller's process before anything
 * is created (typed twice at a terminal, --admin-password-stdin or --admin-password-file) and
 * checked against the password policy then, so a refused password leaves no data dir behind.
 * Without a password source and without a terminal (a script, CI) no admin is made, and init says
 * how to add one later; scripted inits never wait on a prompt.
 */
import { cliUser } from '../../audit/actors.ts'
import { DEFAULTS } from '../../config/defaults.ts'
import { Archive } from '../../archive/archive.ts'
import { Accounts, directoryOf } from '../../people/accounts.ts'
import type { Account } from '../../people/directory.ts'
import { checkPasswordPolicy } from '../../people/password-policy.ts'
import { usernameProblem } from '../../people/user-record.ts'
import { provider, random } from '../../runtime.ts'
import { UsageError, type OptionValues, type Secrets } from '../command.ts'
import { readPassword, type PasswordIo } from '../password-input.ts'

export const DEFAULT_ADMIN = 'admin'
/** The first admin's username from the command line (checked). */
export function adminNameOf (values: OptionValues): string {
  const name = typeof values.admin === 'string' ? values.admin : DEFAULT_ADMIN
  const problem = usernameProblem(name)
  if (problem !== undefined) throw new UsageError(`--admin "${name.slice(0, 80)}" is not a username: ${problem}`)
  return name
}

/** init's `secrets`: the first admin's password, or none (joining, --no-admin, or no way to ask). */
export async function adminSecrets (values: OptionValues, io?: PasswordIo): Promise<Secrets | undefined> {
  const file = typeof values['admin-password-file'] === 'string' ? values['admin-password-file'] : undefined
  const stdin = values['admin-password-stdin'] === true
  if (values.join !== undefined || values['no-admin'] === true) {
    if (file !== undefined || stdin || values.admin !== undefined) throw new UsageError(values.join !== undefined ? 'a joining node makes no admin account: the org has its accounts already' : '--no-admin and the --admin options exclude each other')
    return undefined
  }
  const username = adminNameOf(values)
  const password = await readPassword({ file, stdin, flags: { file: '--admin-password-file', stdin: '--admin-password-stdin' } },
    `Password for the first admin account, ${username}`,
    { check: (p) => { checkPasswordPolicy(p, { username, displayName: username }) }, ...(io === undefined ? {} : { io }) })
  return password === undefined ? undefined : { password }
}

/** Adds the admin to a data dir init has just made (the node is not running). */
export async function addFirstAdmin (dataDir: string, passphrase: string | undefined, username: string, password: string): Promise<Account> {
  const archive = await Archive.open(dataDir, { keys: 'required', passphrase, provider, random, command: 'init' })
  try {
    const accounts = new Accounts(archive, directoryOf(archive, await archive.log()))
    return await accounts.add({ username, role: 'admin', password }, { by: `cli:${archive.keyring.nodeId}`, actor: cliUser() })
  } finally {
    await archive.close()
  }
}

/** The address a browser on this machine opens, for the default --http. */
export function defaultSignInUrl (): string {
  return `http://localhost:${DEFAULTS.http.split(':').pop()!}/`
}

/** How to sign in as the admin: where, and that the first sign-in enrols TOTP. */
export function signInLines (username: string, url: string, started: boolean): string[] {
  return [
    `Sign in as ${username} at ${url}${started ? '' : ' once the node runs (`peerpacs start`; another --http changes the port)'}:`,
    '  the first sign-in enrols a second factor: scan the QR code it shows with an authenticator',
    '  app (TOTP), then keep the ten recovery codes it gives you somewhere safe.'
  ]
}

/** What to do when init made no admin. */
export function noAdminLines (dataDir: string, asked: boolean): string[] {
  const data = dataDir.includes(' ') ? `'${dataDir}'` : dataDir
  return [
    `No admin account was made (${asked ? 'as asked' : 'no terminal to ask for its password'}). Add one with:`,
    `    peerpacs users add admin --role admin --data ${data}     (asks for the password)`,
    `    peerpacs users add admin --role admin --password-stdin --data ${data} < FILE`
  ]
}

/**
 * What `peerpacs users` does (its options and help: commands/users.ts): people's accounts changed
 * by the site's operator at the command line, through Accounts (node/people/accounts.ts), which
 * writes each change as a signed user.* op and audits it. The author is "cli:NODE" with the
 * operating-system user as the audit's reporter. Sessions are this site's own (SessionStore over
 * its kv). Passwords are read in the caller's process (`secrets`), never from argv.
 */
import { cliUser } from '../../audit/actors.ts'
import type { Archive } from '../../archive/archive.ts'
import { Accounts, directoryOf, type ChangeAuthor } from '../../people/accounts.ts'
import type { Account } from '../../people/directory.ts'
import { isPersonRole, MFA_REQUIRED, PERSON_ROLES, type PersonRole } from '../../people/roles.ts'
import { accountView } from '../../people/session-routes.ts'
import { checkPasswordPolicy } from '../../people/password-policy.ts'
import { SessionStore } from '../../people/sessions.ts'
import { REASON_MAX } from '../../people/user-record.ts'
import { UsageError, type CommandContext, type OptionValues, type Secrets } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable, type Output } from '../output.ts'
import { readPassword } from '../password-input.ts'

type Action = 'add' | 'list' | 'set-role' | 'disable' | 'enable' | 'reset-mfa' | 'passwd' | 'sessions'
const ACTIONS: readonly Action[] = ['add', 'list', 'set-role', 'disable', 'enable', 'reset-mfa', 'passwd', 'sessions']

/** Which options each action takes (the common ones aside). */
const OPTIONS_OF: Readonly<Record<Action, readonly string[]>> = {
  add: ['role', 'display-name', 'password-file', 'password-stdin', 'service', 'mfa'],
  list: [],
  'set-role': [],
  disable: ['reason'],
  enable: ['reason'],
  'reset-mfa': [],
  passwd: ['password-file', 'password-stdin'],
  sessions: ['end']
}
const ALL_OPTIONS = ['role', 'display-name', 'password-file', 'password-stdin', 'service', 'mfa', 'reason', 'end']

interface Request {
  readonly action: Action
  /** The USER (or, for add, the new USERNAME). */
  readonly user?: string
  readonly role?: PersonRole
  /** A password is read for it. */
  readonly needsPassword: boolean
}

function roleOf (value: unknown, where: string): PersonRole {
  if (!isPersonRole(value)) throw new UsageError(`${where} "${String(value).slice(0, 40)}" is not a role`, `one of ${PERSON_ROLES.join(', ')}`)
  return value
}

/** The command line checked, before anything is read or opened. */
function requestOf (values: OptionValues, args: string[]): Request {
  const action = args[0] as Action
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown users action "${String(args[0] ?? '').slice(0, 40)}"`, `use ${ACTIONS.join(', ')}`)
  for (const name of ALL_OPTIONS) {
    if (values[name] !== undefined && !OPTIONS_OF[action].includes(name)) throw new UsageError(`--${name} is not for \`users ${action}\``, 'see `peerpacs users --help`')
  }
  if (typeof values.reason === 'string' && [...values.reason].length > REASON_MAX) throw new UsageError(`--reason is ${[...values.reason].length} characters long; at most ${REASON_MAX}`)
  const wanted = action === 'list' ? 0 : action === 'set-role' ? 2 : 1
  if (args.length - 1 > wanted) throw new UsageError(`unexpected argument "${String(args[wanted + 1]).slice(0, 80)}"`, 'see `peerpacs users --help`')
  if (args.length - 1 < wanted) throw new UsageError(action === 'add' ? 'users add needs the new USERNAME' : action === 'set-role' ? 'users set-role needs USER and ROLE' : `users ${action} needs USER (a username or an account id)`)
  if (action === 'add') {
    if (values.role === undefined) throw new UsageError('--role is required', `one of ${PERSON_ROLES.join(', ')}`)
    const role = roleOf(values.role, '--role')
    const service = values.service === true
    if (service && (values['password-file'] !== undefined || values['password-stdin'] !== undefined)) throw new UsageError('a service account has no password', 'leave out --password-file/--password-stdin, or --service')
    if (service && values.mfa === true) throw new UsageError('a service account signs in with API tokens only, so --mfa does not apply')
    return { action, user: args[1]!, role, needsPassword: !service }
  }
  if (action === 'set-role') return { action, user: args[1]!, role: roleOf(args[2], 'the role'), needsPassword: false }
  return { action, ...(args[1] === undefined ? {} : { user: args[1] }), needsPassword: action === 'passwd' }
}

/** Reads the password of `add` and `passwd` where the caller is (a terminal, a pipe, a file). */
export async function secrets (values: OptionValues, args: string[]): Promise<Secrets | undefined> {
  const request = requestOf(values, args)
  if (!request.needsPassword) return undefined
  const file = values['password-file']
  // Checked here too, so a person at a terminal can try again; the account's own check follows
  // where the record is (passwd: against its display name as well).
  const displayName = typeof values['display-name'] === 'string' ? values['display-name'] : request.user!
  const check = (password: string): void => { checkPasswordPolicy(password, request.action === 'add' ? { username: request.user!, displayName } : { username: request.user! }) }
  const password = await readPassword({ file: typeof file === 'string' ? file : undefined, stdin: values['password-stdin'] === true, flags: { file: '--password-file', stdin: '--password-stdin' } },
    request.action === 'add' ? `Password for the new account ${request.user!.slice(0, 64)}` : `New password for ${request.user!.slice(0, 64)}`, { check })
  if (password === undefined) {
    throw new UsageError(`users ${request.action} needs a password, and stdin is not a terminal to ask for one`,
      request.action === 'add' ? 'give --password-stdin or --password-file FILE; or --service for an account that signs in with API tokens only' : 'give --password-stdin or --password-file FILE')
  }
  return { password }
}

function secondFactors (a: Account): string {
  const parts: string[] = []
  if (a.record.totp !== null) parts.push('totp')
  if (a.record.passkeys.length > 0) parts.push(`${a.record.passkeys.length} passkey${a.record.passkeys.length === 1 ? '' : 's'}`)
  if (a.record.recovery.length > 0) parts.push(`${a.record.recovery.length} recovery code${a.record.recovery.length === 1 ? '' : 's'}`)
  if (parts.length === 0) return a.record.password === null ? '-' : (a.record.mfa || MFA_REQUIRED.has(a.record.role)) ? 'none (enrols at sign-in)' : 'none'
  return parts.join(', ')
}

/** One account as a JSON record: what GET /api/users shows, without any secret. */
const view = accountView

function list (accounts: Accounts, out: Output): number {
  const all = accounts.directory.list()
  const unreadable = accounts.directory.unreadable()
  const rows = [['USERNAME', 'DISPLAY NAME', 'ROLE', 'STATUS', 'SECOND FACTORS', 'ID']]
  for (const a of all) {
    out.record({ type: 'user', ...view(a) })
    const status = [a.disabled ? 'disabled' : 'active', ...(a.record.password === null ? ['service'] : []), ...(a.conflict ? ['NAME CONFLICT'] : [])].join(', ')
    rows.push([a.record.username, a.record.displayName, a.record.role, status, secondFactors(a), a.id])
  }
  for (const u of unreadable) out.record({ type: 'user-unreadable', id: u.id, why: u.why })
  out.record({ type: 'summary', users: all.length, disabled: all.filter((a) => a.disabled).length, conflicts: all.filter((a) => a.conflict).length, unreadable: unreadable.length })
  if (all.length === 0 && unreadable.length === 0) {
    out.line('No accounts yet. Add one with `peerpacs users add USERNAME --role admin`.')
    return EXIT.OK
  }
  for (const line of formatTable(rows)) out.line(line)
  out.line('')
  out.line(`${all.length} account${all.length === 1 ? '' : 's'}${all.some((a) => a.disabled) ? `, ${all.filter((a) => a.disabled).length} disabled` : ''}.`)
  if (all.some((a) => a.conflict)) out.line('NAME CONFLICT: another account was given the same username first (at another site); it cannot sign in by that name until renamed.')
  if (unreadable.length > 0) {
    out.line('')
    out.line(`${unreadable.length} account${unreadable.length === 1 ? '' : 's'} cannot be read at this site yet:`)
    for (const u of unreadable) out.line(`  ${u.id}  ${u.why}`)
  }
  return EXIT.OK
}

/** Says so when no enabled admin account is left (the site's operator can still add one here). */
function warnNoAdmin (accounts: Accounts, out: Output): void {
  if (accounts.directory.list().some((a) => a.record.role === 'admin' && !a.disabled && a.record.password !== null)) return
  out.warn('no enabled admin account is left; add one with `peerpacs users add USERNAME --role admin`')
}

function needPassword (context: CommandContext): string {
  const password = context.secrets?.password
  if (password === undefined) throw new UsageError('no password was read', 'give --password-stdin or --password-file FILE')
  return password
}

export async function run (context: CommandContext): Promise<number> {
  const { values, args, out } = context
  const request = requestOf(values, args)
  return await withArchive(context, 'users', 'required', async (archive) => {
    const accounts = new Accounts(archive, directoryOf(archive, await archive.log()))
    if (request.action === 'list') return list(accounts, out)
    return await change(archive, accounts, request, context)
  })
}

async function change (archive: Archive, accounts: Accounts, request: Request, context: CommandContext): Promise<number> {
  const { values, out } = context
  const author: ChangeAuthor = { by: `cli:${archive.keyring.nodeId}`, actor: cliUser() }
  // Inside a running node, its own store (one write queue: a touch cannot revive an ended session).
  const sessions = (): SessionStore => context.node?.sessions ?? new SessionStore(archive.kv)
  const reason = typeof values.reason === 'string' ? values.reason : ''
  const name = (a: Account): string => `${a.record.username} (${a.id})`
  switch (request.action) {
    case 'add': {
      const displayName = values['display-name']
      const account = await accounts.add({
        username: request.user!,
        role: request.role!,
        ...(typeof displayName === 'string' ? { displayName } : {}),
        ...(request.needsPassword ? { password: needPassword(context) } : {}),
        ...(values.mfa === true ? { mfa: true } : {})
      }, author)
      out.record({ type: 'user-added', ...view(account), op: account.recordOp })
      out.line(`Added ${account.record.password === null ? 'service account' : 'account'} ${name(account)} with role ${account.record.role}.`)
      if (account.record.password === null) out.line(`Give it an API token: peerpacs token create --name NAME --user ${account.record.username}`)
      else if (account.record.mfa) out.line('A second factor is required: the first sign-in enrols one (an authenticator app, TOTP).')
      return EXIT.OK
    }
    case 'set-role': {
      const before = accounts.find(request.user!)
      if (before.record.role === request.role) {
        out.record({ type: 'user-unchanged', ...view(before) })
        out.line(`${name(before)} has the role ${request.role!} already; nothing changed.`)
        return EXIT.OK
      }
      const account = await accounts.setRole(before.id, request.role!, author)
      out.record({ type: 'user-role', ...view(account), previous: before.record.role, op: account.recordOp })
      out.line(`Set the role of ${name(account)} to ${account.record.role} (was ${before.record.role}).`)
      if (before.record.role === 'admin') warnNoAdmin(accounts, out)
      return EXIT.OK
    }
    case 'disable': {
      const before = accounts.find(request.user!)
      const account = await accounts.disable(before.id, reason, author)
      const ended = await sessions().endAllOf(account.id)
      out.record({ type: before.disabled ? 'user-unchanged' : 'user-disabled', ...view(account), sessionsEnded: ended })
      out.line(before.disabled ? `${name(account)} is disabled already.` : `Disabled ${name(account)}: refused at every site once the change reaches it.`)
      if (ended > 0) out.line(`Ended ${ended} session${ended === 1 ? '' : 's'} at this site.`)
      if (before.record.role === 'admin') warnNoAdmin(accounts, out)
      return EXIT.OK
    }
    case 'enable': {
      const before = accounts.find(request.user!)
      const account = await accounts.enable(before.id, reason, author)
      out.record({ type: before.disabled ? 'user-enabled' : 'user-unchanged', ...view(account) })
      out.line(before.disabled ? `Enabled ${name(account)}.` : `${name(account)} is enabled already.`)
      return EXIT.OK
    }
    case 'reset-mfa': {
      const account = await accounts.resetMfa(request.user!, author)
      out.record({ type: 'user-mfa-reset', ...view(account), op: account.recordOp })
      out.line(`Removed every second factor and recovery code of ${name(account)}: the next sign-in enrols a new one.`)
      return EXIT.OK
    }
    case 'passwd': {
      const target = accounts.find(request.user!)
      if (target.record.password === null) throw new UsageError(`${name(target)} is a service account: it has no password`, 'it signs in with API tokens (`peerpacs token create --user`)')
      const account = await accounts.setPassword(target.id, needPassword(context), author)
      const ended = await sessions().endAllOf(account.id)
      out.record({ type: 'user-password', ...view(account), op: account.recordOp, sessionsEnded: ended })
      out.line(`Set a new password for ${name(account)}.${ended > 0 ? ` Ended ${ended} session${ended === 1 ? '' : 's'} at this site.` : ''}`)
      return EXIT.OK
    }
    case 'sessions': {
      const account = accounts.find(request.user!)
      const store = sessions()
      const live = await store.listOf(account.id)
      for (const s of live) {
        out.record({ type: 'session', user: account.id, id: s.idHash.slice(0, 16), stage: s.stage, created: new Date(s.created).toISOString(), lastSeen: new Date(s.lastSeen).toISOString(), address: s.address, userAgent: s.userAgent })
      }
      if (values.end === true) {
        const ended = await store.endAllOf(account.id)
        out.record({ type: 'sessions-ended', user: account.id, ended })
        out.line(`Ended ${ended} session${ended === 1 ? '' : 's'} of ${name(account)} at this site.`)
        return EXIT.OK
      }
      if (live.length === 0) { out.line(`${name(account)} has no session at this site.`); return EXIT.OK }
      const rows = [['ID', 'STAGE', 'STARTED', 'LAST SEEN', 'ADDRESS', 'BROWSER']]
      for (const s of live) rows.push([s.idHash.slice(0, 16), s.stage, new Date(s.created).toISOString(), new Date(s.lastSeen).toISOString(), s.address, s.userAgent.slice(0, 60)])
      for (const line of formatTable(rows)) out.line(line)
      out.line('')
      out.line(`End them with \`peerpacs users sessions ${account.record.username} --end\`.`)
      return EXIT.OK
    }
    case 'list': return EXIT.OK
  }
}

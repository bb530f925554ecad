/**
 * The Users page (admin, `users.manage`): every account this site can read — username, name,
 * role, disabled, second factors, created — and adding one (username, display name, role,
 * password, MFA). Choosing an account opens its panel: change the role, disable or enable with a
 * reason, reset the second factors, set a password, see and end its sessions at this site.
 * Every refusal is the node's message, shown where it happened.
 */
import { api, messageOf } from './api.ts'
import { alertBox, onSubmit, say, when } from './admin-forms.ts'
import { h, replace } from './dom.ts'

export const ROLES = ['admin', 'radiologist', 'technologist', 'referrer', 'auditor'] as const

export interface UserView {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly role: string
  readonly disabled: boolean
  readonly mfaRequired: boolean
  readonly secondFactors: { readonly totp: boolean, readonly passkeys: number, readonly recoveryCodes: number }
  readonly service: boolean
  readonly conflict?: boolean
  readonly created: string
}

export interface SessionView { readonly id: string, readonly stage: string, readonly created: string, readonly lastSeen: string, readonly address: string, readonly userAgent: string }

export function factorsOf (u: UserView): string {
  const parts: string[] = []
  if (u.secondFactors.totp) parts.push('TOTP')
  if (u.secondFactors.passkeys > 0) parts.push(`${u.secondFactors.passkeys} passkey${u.secondFactors.passkeys === 1 ? '' : 's'}`)
  if (u.secondFactors.recoveryCodes > 0) parts.push(`${u.secondFactors.recoveryCodes} recovery codes`)
  if (parts.length === 0) return u.mfaRequired ? 'none yet (enrols at next sign-in)' : 'none'
  return parts.join(', ')
}

function roleSelect (name: string, value = 'technologist'): HTMLSelectElement {
  return h('select', { name }, ...ROLES.map((r) => h('option', { value: r, selected: r === value }, r)))
}

export function usersPage (main: HTMLElement): () => void {
  const list = h('tbody')
  const status = h('p.status', { role: 'status' }, 'Loading accounts…')
  const panel = h('section.panel.user-panel', { hidden: true, 'aria-label': 'Account' })
  let selected: string | undefined

  const username = h('input', { name: 'username', required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' })
  const displayName = h('input', { name: 'displayName', autocomplete: 'off' })
  const role = roleSelect('role')
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' })
  const mfa = h('input', { name: 'mfa', type: 'checkbox' })
  const addBox = alertBox()
  const add = h('form.inline-form', { 'data-form': 'add-user', 'aria-label': 'Add an account' },
    h('label', {}, 'Username', username), h('label', {}, 'Display name', displayName), h('label', {}, 'Role', role),
    h('label', {}, 'Password', password), h('label.check', {}, mfa, 'Second factor (MFA)'),
    h('button', { type: 'submit' }, 'Add account'), addBox)
  onSubmit(add, addBox, async () => {
    const body = { username: username.value, role: role.value, mfa: mfa.checked, ...(displayName.value === '' ? {} : { displayName: displayName.value }), ...(password.value === '' ? {} : { password: password.value }) }
    const { user } = await api<{ user: UserView }>('POST', '/api/users', body)
    password.value = ''
    username.value = ''
    displayName.value = ''
    await load()
    return `added ${user.username} (${user.role})`
  })

  const table = h('table.grid.users', { 'aria-label': 'Accounts' },
    h('thead', {}, h('tr', {}, ...['Username', 'Name', 'Role', 'Status', 'Second factors', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
    list)
  replace(main, h('h1', {}, 'Users'), h('h2', {}, 'Add an account'), add, h('h2', {}, 'Accounts'), status, table, panel)

  const load = async (note?: string): Promise<void> => {
    try {
      const { users } = await api<{ users: UserView[] }>('GET', '/api/users')
      list.replaceChildren(...users.map((u) => {
        const row = h('tr', { tabindex: 0, 'data-user': u.username, 'aria-selected': u.id === selected ? 'true' : undefined, class: u.disabled ? 'disabled' : undefined },
          h('td', {}, u.username), h('td', {}, u.displayName), h('td', {}, u.role),
          h('td', {}, u.disabled ? 'disabled' : u.service ? 'service' : 'active', u.conflict === true ? ' (name in conflict)' : ''),
          h('td', {}, factorsOf(u)), h('td', {}, when(u.created)))
        const open = (): void => { selected = u.id; showPanel(u); for (const r of list.children) r.removeAttribute('aria-selected'); row.setAttribute('aria-selected', 'true') }
        row.addEventListener('click', open)
        row.addEventListener('keydown', (e) => { if (e.key === 'Enter') open() })
        return row
      }))
      status.hidden = users.length > 0
      status.textContent = users.length === 0 ? 'No accounts.' : ''
      const current = users.find((u) => u.id === selected)
      if (current !== undefined) showPanel(current, note)
    } catch (error) {
      status.hidden = false
      status.textContent = `The accounts could not be listed: ${messageOf(error)}`
      status.classList.add('alert')
    }
  }

  const showPanel = (u: UserView, note?: string): void => {
    const path = `/api/users/${encodeURIComponent(u.id)}`
    /** The list and this panel are drawn again from the node's answer; the outcome is said at the panel's top. */
    const after = async (message: string): Promise<void> => { await load(message) }

    const newRole = roleSelect('role', u.role)
    const roleBox = alertBox()
    const roleForm = h('form.inline-form', { 'data-form': 'role' }, h('label', {}, 'Role', newRole), h('button', { type: 'submit' }, 'Change role'), roleBox)
    onSubmit(roleForm, roleBox, async () => { await api('POST', `${path}/role`, { role: newRole.value }); return await after(`role is now ${newRole.value}`) })

    const reason = h('input', { name: 'reason', required: true, placeholder: 'why (kept in the audit trail)', size: 40 })
    const stateBox = alertBox()
    const stateForm = h('form.inline-form', { 'data-form': u.disabled ? 'enable' : 'disable' },
      h('label', {}, 'Reason', reason), h('button', { type: 'submit' }, u.disabled ? 'Enable' : 'Disable'), stateBox)
    onSubmit(stateForm, stateBox, async () => {
      await api('POST', `${path}/${u.disabled ? 'enable' : 'disable'}`, { reason: reason.value })
      // The node ends a disabled account's sessions here at once (and at other sites when the op arrives).
      return await after(u.disabled ? 'enabled' : 'disabled; its sessions at this site have ended')
    })

    const mfaBox = alertBox()
    const mfaForm = h('form.inline-form', { 'data-form': 'reset-mfa' }, h('span', {}, `Second factors: ${factorsOf(u)}`), h('button', { type: 'submit' }, 'Reset second factors'), mfaBox)
    onSubmit(mfaForm, mfaBox, async () => { await api('POST', `${path}/reset-mfa`, {}); return await after('second factors removed: the person enrols again at the next sign-in') })

    const pass = h('input', { name: 'new-password', type: 'password', autocomplete: 'new-password', required: true })
    const passBox = alertBox()
    const passForm = h('form.inline-form', { 'data-form': 'password' }, h('label', {}, 'New password', pass), h('button', { type: 'submit' }, 'Set password'), passBox)
    onSubmit(passForm, passBox, async () => {
      const answer = await api<{ sessionsEnded?: number }>('POST', `${path}/password`, { password: pass.value })
      pass.value = ''
      return await after(`password set; ${answer.sessionsEnded ?? 0} session(s) here ended`)
    })

    const sessions = h('tbody')
    const sessionsBox = alertBox()
    const endAll = h('form.inline-form', { 'data-form': 'end-sessions' }, h('button', { type: 'submit' }, 'End all sessions here'), sessionsBox)
    const loadSessions = async (): Promise<void> => {
      try {
        const list = await api<SessionView[]>('GET', `${path}/sessions`)
        sessions.replaceChildren(...list.map((s) => h('tr', { 'data-session': s.id }, h('td', {}, when(s.created)), h('td', {}, when(s.lastSeen)), h('td', {}, s.address), h('td', {}, s.stage), h('td.agent', { title: s.userAgent }, s.userAgent))))
        if (list.length === 0) sessions.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, 'No session at this site.')))
      } catch (error) { say(sessionsBox, messageOf(error)) }
    }
    onSubmit(endAll, sessionsBox, async () => {
      const { ended } = await api<{ ended: number }>('DELETE', `${path}/sessions`)
      await loadSessions()
      return `${ended} session(s) ended`
    })

    panel.hidden = false
    replace(panel,
      h('h2', {}, `${u.displayName} (${u.username})`, u.disabled ? h('span.badge', {}, 'disabled') : null),
      note === undefined ? null : h('p.notice', { role: 'status', 'data-outcome': true }, note.charAt(0).toUpperCase() + note.slice(1)),
      roleForm, stateForm, mfaForm, passForm,
      h('h3', {}, 'Sessions at this site'),
      h('table.grid.sessions', { 'aria-label': `Sessions of ${u.username}` },
        h('thead', {}, h('tr', {}, ...['Signed in', 'Last request', 'Address', 'Stage', 'Browser'].map((c) => h('th', { scope: 'col' }, c)))), sessions),
      endAll)
    void loadSessions()
  }

  void load()
  return () => {}
}

/**
 * The Sessions page (admin): who is signed in at this site now — every account's live sessions
 * (GET /api/users/:user/sessions for each), with "End sessions" per account.
 */
import { api, messageOf } from './api.ts'
import { alertBox, onSubmit, when } from './admin-forms.ts'
import type { SessionView, UserView } from './admin-users.ts'
import { h, replace } from './dom.ts'

export function sessionsPage (main: HTMLElement): () => void {
  const body = h('tbody')
  const status = h('p.status', { role: 'status' }, 'Loading sessions…')
  replace(main, h('h1', {}, 'Sessions at this site'), status,
    h('table.grid.sessions', { 'aria-label': 'Sessions' },
      h('thead', {}, h('tr', {}, ...['Username', 'Role', 'Signed in', 'Last request', 'Address', 'Stage', 'Browser', ''].map((c) => h('th', { scope: 'col' }, c)))), body))
  let left = false
  const load = async (): Promise<void> => {
    try {
      const { users } = await api<{ users: UserView[] }>('GET', '/api/users')
      const rows: HTMLTableRowElement[] = []
      for (const u of users) {
        const list = await api<SessionView[]>('GET', `/api/users/${encodeURIComponent(u.id)}/sessions`)
        for (const [i, s] of list.entries()) {
          const box = alertBox()
          const end = h('form.inline-form', { 'data-form': 'end-sessions' }, h('button', { type: 'submit' }, `End ${u.username}'s sessions`), box)
          onSubmit(end, box, async () => { await api('DELETE', `/api/users/${encodeURIComponent(u.id)}/sessions`); await load() })
          rows.push(h('tr', { 'data-user': u.username, 'data-session': s.id },
            h('td', {}, u.username), h('td', {}, u.role), h('td', {}, when(s.created)), h('td', {}, when(s.lastSeen)), h('td', {}, s.address), h('td', {}, s.stage),
            h('td.agent', { title: s.userAgent }, s.userAgent), h('td', {}, i === 0 ? end : '')))
        }
      }
      if (left) return
      body.replaceChildren(...rows)
      status.hidden = rows.length > 0
      status.textContent = rows.length === 0 ? 'Nobody is signed in here.' : ''
    } catch (error) {
      status.hidden = false
      status.textContent = `The sessions could not be listed: ${messageOf(error)}`
      status.classList.add('alert')
    }
  }
  void load()
  return () => { left = true }
}

/**
 * The viewer's entry: asks the node who is signed in, then shows the sign-in page or the page the
 * address names (#/ the worklist, #/study/UID a study). A request answered 401 later (the session
 * ended: idle, expired, signed out elsewhere) brings the sign-in page back with a notice.
 */
import { messageOf, SESSION_ENDED } from './api.ts'
import { h, replace } from './dom.ts'
import { currentSession, signOut, type SessionAnswer } from './session.ts'
import { shell } from './shell.ts'
import { signInPage } from './sign-in.ts'
import { worklistPage } from './worklist.ts'
import { queryFrom } from './worklist-query.ts'
import { adminPagesOf, homeOf } from './admin-nav.ts'
import { auditPage } from './admin-audit.ts'
import { sessionsPage } from './admin-sessions.ts'
import { usersPage } from './admin-users.ts'
import { watchIdle, type IdleWatch } from './idle-warning.ts'
import type { SessionExpiry } from './idle-clock.ts'

const root = document.getElementById('app')!
let session: SessionAnswer | undefined
let leave: (() => void) | undefined
let idle: IdleWatch | undefined

/**
 * The study page and Cornerstone3D (most of the code) load on first use, so the sign-in page and
 * the worklist appear before it has arrived; after sign-in it is fetched in the background.
 */
let studyModule: Promise<typeof import('./study-page.ts')> | undefined
function loadStudyPage (): Promise<typeof import('./study-page.ts')> {
  studyModule ??= import('./study-page.ts')
  return studyModule
}

function navigate (hash: string): void {
  if (location.hash === hash) route()
  else location.hash = hash
}

function showSignIn (notice?: string, pending?: SessionAnswer): void {
  leave?.()
  leave = undefined
  idle?.stop()
  idle = undefined
  session = undefined
  document.title = 'Sign in · peerpacs'
  signInPage(root, {
    ...(notice === undefined ? {} : { notice }),
    ...(pending === undefined ? {} : { pending }),
    onSignedIn: (s) => { signedIn(s) }
  })
}

/** A session begins on this page: the idle-logoff watch starts with its limits. */
function signedIn (s: SessionAnswer): void {
  session = s
  idle?.stop()
  idle = watchIdle(s as SessionAnswer & SessionExpiry, (idleMs) => {
    signOut().catch(() => undefined).finally(() => { showSignIn(`You were signed out after ${Math.round(idleMs / 60_000)} minute${idleMs === 60_000 ? '' : 's'} without activity.`) })
  })
  route()
}

function route (): void {
  if (session === undefined) return
  setTimeout(() => { loadStudyPage().then((m) => { m.prepare() }).catch(() => { studyModule = undefined }) }, 0)
  leave?.()
  leave = undefined
  const { main } = shell(root, session.user, () => {
    signOut().catch(() => undefined).finally(() => { showSignIn('You are signed out.') })
  })
  const hash = location.hash.replace(/^#/, '') || '/'
  const [path = '/', query = ''] = hash.split('?')
  const study = /^\/study\/([^/]+)$/.exec(path)
  const admin = adminPagesOf(session.user.role).find((p) => p.path === path)
  if (path === '/' && homeOf(session.user.role) !== '/') {
    navigate(`#${homeOf(session.user.role)}`)
  } else if (admin !== undefined) {
    document.title = `${admin.label} · peerpacs`
    leave = admin.path === '/admin/users' ? usersPage(main) : admin.path === '/admin/sessions' ? sessionsPage(main) : auditPage(main)
  } else if (study !== null) {
    document.title = 'Study · peerpacs'
    const uid = decodeURIComponent(study[1]!)
    let left = false
    leave = () => { left = true }
    loadStudyPage().then(({ studyPage }) => {
      if (!left) leave = studyPage(main, uid)
    }).catch((error: unknown) => {
      replace(main, h('p.alert', { role: 'alert' }, `The viewer could not be loaded: ${messageOf(error)}`))
    })
  } else {
    document.title = 'Worklist · peerpacs'
    leave = worklistPage(main, queryFrom(new URLSearchParams(query)), navigate)
  }
}

// A session that ends while a page is open: any request answered 401 brings sign-in back.
window.addEventListener(SESSION_ENDED, () => {
  if (session !== undefined) showSignIn('Your session has ended. Sign in again.')
})
window.addEventListener('hashchange', route)

async function boot (): Promise<void> {
  try {
    const current = await currentSession()
    if (current === undefined) showSignIn()
    else if (current.stage === 'mfa') showSignIn(undefined, current)
    else signedIn(current)
  } catch (error) {
    replace(root, h('main.centre', {}, h('p.alert', { role: 'alert' }, `The node could not be reached: ${messageOf(error)}`)))
  }
}

void boot()

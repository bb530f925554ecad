/**
 * The idle-logoff warning on every signed-in page: counts input (keys, clicks, the wheel, pointer
 * moves) with an IdleClock (idle-clock.ts) against the session's limits from the node, shows
 * "You will be signed out in N s — stay signed in" before the end, and at the end calls
 * `onExpired` (the page signs out and shows sign-in). "Stay signed in" asks the node
 * (GET /api/session), which records the activity and answers the new expiry.
 */
import { api, messageOf } from './api.ts'
import { h } from './dom.ts'
import { IdleClock, type SessionExpiry } from './idle-clock.ts'

const INPUTS = ['keydown', 'pointerdown', 'wheel', 'pointermove', 'touchstart'] as const

export interface IdleWatch { stop: () => void }

export function watchIdle (expiry: SessionExpiry, onExpired: (idleMs: number) => void, now: () => number = Date.now): IdleWatch {
  const clock = new IdleClock(expiry, now())
  const seconds = h('strong', { 'data-idle-seconds': true })
  const stay = h('button', { type: 'button', 'data-action': 'stay-signed-in' }, 'Stay signed in')
  const problem = h('span.alert', { hidden: true })
  const banner = h('div.idle-warning', { role: 'alertdialog', 'aria-live': 'assertive', 'aria-label': 'Idle sign-out warning', hidden: true },
    h('span', {}, 'You will be signed out in ', seconds, ' s — '), stay, problem)
  document.body.append(banner)
  let stopped = false

  const ping = (): void => {
    api<SessionExpiry>('GET', '/api/session').then((answer) => { if (!stopped) clock.update(answer, now()) })
      .catch((error: unknown) => { problem.textContent = ` ${messageOf(error)}`; problem.hidden = false })
  }
  const onInput = (): void => { if (clock.input(now())) ping() }
  stay.addEventListener('click', () => { clock.stay(now()); problem.hidden = true; ping(); tick() })
  for (const name of INPUTS) window.addEventListener(name, onInput, { passive: true, capture: true })

  const tick = (): void => {
    if (stopped) return
    const state = clock.phase(now())
    if (state.phase === 'expired') { stop(); onExpired(clock.idleMs); return }
    banner.hidden = state.phase !== 'warning'
    seconds.textContent = String(Math.ceil(state.remainingMs / 1000))
  }
  const timer = setInterval(tick, 1000)
  const stop = (): void => {
    if (stopped) return
    stopped = true
    clearInterval(timer)
    for (const name of INPUTS) window.removeEventListener(name, onInput, { capture: true })
    banner.remove()
  }
  tick()
  return { stop }
}

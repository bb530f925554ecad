/**
 * The sign-in page: username and password, then the second factor — a TOTP code, or at the first
 * sign-in the TOTP enrolment (the QR code the node draws, and the key to type for apps that cannot
 * scan) — or a recovery code. The node's refusals are shown as it words them (a wrong password,
 * a lock with its wait, an expired step). New recovery codes are shown once, to be kept.
 */
import { messageOf } from './api.ts'
import { h, replace } from './dom.ts'
import { beginTotpEnrolment, secondFactor, secretOf, signIn, type SessionAnswer } from './session.ts'

export interface SignInOptions {
  /** Said above the form (e.g. "You were signed out after 15 minutes without activity"). */
  readonly notice?: string
  /** A session already past its password, waiting for the second factor. */
  readonly pending?: SessionAnswer
  readonly onSignedIn: (session: SessionAnswer) => void
}

function alertBox (): HTMLParagraphElement {
  return h('p.alert', { role: 'alert', hidden: true })
}

function say (box: HTMLElement, message: string): void {
  // The node's messages start in lower case (they are also read inside longer sentences).
  box.textContent = message.charAt(0).toUpperCase() + message.slice(1)
  box.hidden = message === ''
}

/** Runs a form's submit handler with the button disabled and errors shown in `box`. */
function submitting (form: HTMLFormElement, box: HTMLElement, run: () => Promise<void>): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement | null
    if (button !== null) button.disabled = true
    say(box, '')
    run().catch((error: unknown) => { say(box, messageOf(error)) }).finally(() => { if (button !== null) button.disabled = false })
  })
}

export function signInPage (root: HTMLElement, options: SignInOptions): void {
  const card = h('section.card.sign-in', { 'aria-labelledby': 'sign-in-title' })
  replace(root, h('main.centre', {}, card))
  if (options.pending !== undefined) secondStep(card, options.pending, options)
  else passwordStep(card, options)
}

function passwordStep (card: HTMLElement, options: SignInOptions): void {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true, spellcheck: 'false', autocapitalize: 'off' })
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })
  const box = alertBox()
  const form = h('form', { 'data-step': 'password' },
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    box,
    h('button', { type: 'submit' }, 'Sign in'))
  replace(card, h('h1', { id: 'sign-in-title' }, 'Sign in to peerpacs'), options.notice === undefined ? null : h('p.notice', {}, options.notice), form)
  submitting(form, box, async () => {
    const session = await signIn(username.value, password.value)
    password.value = ''
    if (session.stage === 'full') options.onSignedIn(session)
    else secondStep(card, session, options)
  })
  username.focus()
}

function secondStep (card: HTMLElement, session: SessionAnswer, options: SignInOptions): void {
  const methods = session.secondFactor?.methods ?? []
  const enrol = session.secondFactor?.enrol === true
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,8}', required: true, maxlength: 8 })
  const box = alertBox()
  const intro = h('div.enrol')
  const form = h('form', { 'data-step': enrol ? 'totp-enrol' : 'totp' },
    intro,
    h('label', {}, 'Code from your authenticator app', code),
    box,
    h('button', { type: 'submit' }, enrol ? 'Confirm and sign in' : 'Verify'))
  const recoveryLink = methods.includes('recovery') ? h('button.link', { type: 'button' }, 'Use a recovery code instead') : null
  replace(card, h('h1', { id: 'sign-in-title' }, enrol ? 'Set up your second factor' : 'Second factor'),
    h('p', {}, `Signed in as ${session.user.displayName} with a password. `, enrol ? 'This role needs a second factor: add peerpacs to an authenticator app.' : 'Enter the 6-digit code your authenticator app shows.'),
    form, recoveryLink)
  recoveryLink?.addEventListener('click', () => { recoveryStep(card, session, options) })
  if (enrol) {
    say(intro, 'Preparing your code…')
    beginTotpEnrolment().then((enrolment) => {
      const secret = secretOf(enrolment.uri)
      replace(intro,
        h('img.qr', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qrSvg)}`, alt: 'QR code to scan with an authenticator app', width: 200, height: 200 }),
        h('p', {}, 'Scan it, or type this key into the app:'),
        h('code.secret', { 'data-secret': secret }, secret.replace(/(.{4})/g, '$1 ').trim()))
    }).catch((error: unknown) => { say(box, messageOf(error)); replace(intro) })
  } else if (!methods.includes('totp')) {
    say(box, methods.includes('passkey') ? 'This account signs in with a passkey, which this page does not offer yet: use a recovery code, or ask an admin.' : 'This account has no second factor this page can use: ask an admin to reset it.')
  }
  submitting(form, box, async () => {
    const done = await secondFactor('totp', code.value.replace(/\s/g, ''))
    code.value = ''
    finish(card, done, options)
  })
  code.focus()
}

function recoveryStep (card: HTMLElement, session: SessionAnswer, options: SignInOptions): void {
  const code = h('input', { name: 'recovery', autocomplete: 'off', required: true, spellcheck: 'false', autocapitalize: 'off' })
  const box = alertBox()
  const form = h('form', { 'data-step': 'recovery' }, h('label', {}, 'Recovery code (xxxx-xxxx-xxxx)', code), box, h('button', { type: 'submit' }, 'Sign in'))
  replace(card, h('h1', { id: 'sign-in-title' }, 'Recovery code'), h('p', {}, 'Each recovery code works once.'), form)
  submitting(form, box, async () => { finish(card, await secondFactor('recovery', code.value), options) })
  code.focus()
}

/** Shows new recovery codes once (they are not shown again), then goes on. */
function finish (card: HTMLElement, session: SessionAnswer, options: SignInOptions): void {
  const codes = session.recoveryCodes ?? []
  if (codes.length === 0) { options.onSignedIn(session); return }
  const go = h('button', { type: 'button' }, 'I have kept them: continue')
  go.addEventListener('click', () => { options.onSignedIn(session) })
  replace(card, h('h1', { id: 'sign-in-title' }, 'Your recovery codes'),
    h('p', {}, 'Keep these codes somewhere safe, apart from your phone. Each signs you in once if you lose your authenticator. They are not shown again.'),
    h('ol.codes', {}, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
    go)
  go.focus()
}

/**
 * The frame around the signed-in pages: the top bar (worklist, who is signed in, About, sign out)
 * and the About box, which says what this viewer is and is not: a review viewer, not a cleared
 * diagnostic device.
 */
import { h, replace } from './dom.ts'
import type { SessionUser } from './session.ts'
import { adminPagesOf } from './admin-nav.ts'

export const NOT_A_DEVICE = 'peerpacs is for reviewing images. It is not a medical device cleared or approved for primary diagnosis (no FDA 510(k), no CE marking under the MDR): read diagnostic images on a cleared workstation and display.'

export function aboutDialog (): HTMLDialogElement {
  const close = h('button', { type: 'submit', value: 'close' }, 'Close')
  const dialog = h('dialog.about', { 'aria-labelledby': 'about-title' },
    h('h2', { id: 'about-title' }, 'About peerpacs'),
    h('p', { 'data-disclaimer': true }, h('strong', {}, 'For review only. '), NOT_A_DEVICE),
    h('p', {}, 'Images are shown with Cornerstone3D. Keys in the viewer: ↑/↓ or the wheel scroll, drag sets window/level, right drag zooms, middle drag pans, 1–4 CT presets, i inverts, r resets.'),
    h('form', { method: 'dialog' }, close))
  return dialog
}

export interface Shell {
  readonly main: HTMLElement
}

export function shell (root: HTMLElement, user: SessionUser, onSignOut: () => void): Shell {
  const about = aboutDialog()
  const signOut = h('button.link', { type: 'button', 'data-action': 'sign-out' }, 'Sign out')
  signOut.addEventListener('click', onSignOut)
  const aboutButton = h('button.link', { type: 'button', 'data-action': 'about' }, 'About')
  aboutButton.addEventListener('click', () => { about.showModal() })
  const main = h('main.page')
  replace(root,
    h('header.bar', {},
      h('a.brand', { href: '#/' }, 'peerpacs'),
      h('nav', {}, h('a', { href: '#/' }, 'Worklist'), ...adminPagesOf(user.role).map((p) => h('a', { href: `#${p.path}`, 'data-admin': p.label.toLowerCase() }, p.label))),
      h('span.review-only', { title: NOT_A_DEVICE }, 'For review only — not for primary diagnosis'),
      h('span.who', { 'data-user': user.username }, `${user.displayName} (${user.role})`),
      aboutButton,
      signOut),
    main,
    about)
  return { main }
}

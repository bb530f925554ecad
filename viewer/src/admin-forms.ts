/**
 * Small pieces the admin pages share: a form whose submit runs a request with its button
 * disabled and shows the node's answer (its message, as it comes) beside it, and dates.
 */
import { messageOf } from './api.ts'
import { h } from './dom.ts'

export function alertBox (): HTMLParagraphElement {
  return h('p.alert', { role: 'alert', hidden: true })
}

export function say (box: HTMLElement, message: string, ok = false): void {
  box.textContent = message === '' ? '' : message.charAt(0).toUpperCase() + message.slice(1)
  box.className = ok ? 'notice' : 'alert'
  box.hidden = message === ''
}

/** Runs `run` on submit with the submit button disabled; a refusal is shown in `box`. */
export function onSubmit (form: HTMLFormElement, box: HTMLElement, run: () => Promise<string | void>): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement | null
    if (button !== null) button.disabled = true
    say(box, '')
    run().then((done) => { if (typeof done === 'string') say(box, done, true) })
      .catch((error: unknown) => { say(box, messageOf(error)) })
      .finally(() => { if (button !== null) button.disabled = false })
  })
}

/** 2026-12-03 21:04:05 (UTC) from an ISO date-time. */
export function when (iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')
}

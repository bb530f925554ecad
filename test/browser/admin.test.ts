/**
 * The admin pages and the idle-logoff warning in a real browser (Debian's Chromium through
 * playwright-core) against a real node (`peerpacs start` in its own process):
 *
 * - an admin signs in (password, TOTP enrolment) and lands on Users; a refused account (a weak
 *   password) shows the node's message; adds a technologist, who signs in in a second browser
 *   context; the admin sees that session, disables the account with a reason, and the
 *   technologist's open page is refused at its next request (sign-in comes back) and its session
 *   no longer opens the API; the admin searches the audit for that user and sees the sign-in
 *   events (110114), and the Sessions page;
 * - an auditor signs in and sees the Audit page and no Users or Sessions link, and
 *   GET /api/users answers 403 (the page is not the protection);
 * - with the page's clock run forward (playwright's clock), the warning "You will be signed out
 *   in N s — stay signed in" shows a minute before the idle limit, "stay signed in" asks the node,
 *   and at the limit the page signs out and shows sign-in with its notice; the session is gone at
 *   the node. (The node's own idle expiry is tested in test/unit/node/people/session-expiry.test.ts,
 *   the clock's rules in test/unit/viewer/idle-clock.test.ts.)
 *
 * Screenshots of each page are kept in a folder named in the test output.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import * as OTPAuth from 'otpauth'
import type { Page } from 'playwright-core'
import { runCli, show } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'
import { startNode } from '../helpers/node-process.ts'
import { addPerson, browserMissing, launchChromium, pageProblems, screenshotDir, viewerBuilt } from '../helpers/browser.ts'

const ADMIN = 'site.admin'
const AUDITOR = 'audit.clerk'
const TECH = 'tech.one'
const PASSWORD = 'quartz-lantern-meadow-42'
const TECH_PASSWORD = 'copper kettle harbour 19'

/** Password, then TOTP enrolment with the key the page shows, then past the recovery codes. */
async function signInWithTotp (page: Page, username: string): Promise<void> {
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForSelector('form[data-step=totp-enrol] code.secret[data-secret]')
  const secret = await page.getAttribute('code.secret', 'data-secret')
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret!), digits: 6, period: 30, algorithm: 'SHA1' })
  await page.fill('input[name=code]', totp.generate())
  await page.click('button[type=submit]')
  await page.waitForSelector('ol.codes li')
  await page.click('text=I have kept them: continue')
}

async function status (page: Page, path: string): Promise<number> {
  return await page.evaluate(async (p) => { const r = await (globalThis as any).fetch(p); await r.text(); return r.status as number }, path)
}

test('admin pages: users (add, disable ends the session elsewhere), sessions, audit search; an auditor sees Audit only; the idle warning and sign-out', { skip: browserMissing(), timeout: 240_000 }, async (t) => {
  await viewerBuilt()
  const data = await tempDir(t, 'peerpacs-admin-')
  const init = await runCli(['init', '--data', data, '--name', 'admin test'])
  assert.equal(init.code, 0, show(init))
  for (const [name, role] of [[ADMIN, 'admin'], [AUDITOR, 'auditor']] as const) {
    await addPerson(data, name, role, PASSWORD)
  }
  const node = await startNode(t, data)
  t.after(async () => { await node.stop() })
  const shots = await screenshotDir('admin-shots')
  t.diagnostic(`screenshots: ${shots}`)
  const browser = await launchChromium(t)

  // The admin signs in and starts on Users.
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 })
  const admin = await adminContext.newPage()
  const problems = pageProblems(admin)
  await admin.goto(node.url + '/')
  await signInWithTotp(admin, ADMIN)
  await admin.waitForFunction(() => (globalThis as any).location.hash === '#/admin/users')
  await admin.waitForSelector(`table.users tr[data-user="${ADMIN}"]`)
  assert.deepEqual(await admin.locator('.bar nav a[data-admin]').allTextContents(), ['Users', 'Sessions', 'Audit'])
  const adminRow = (await admin.locator(`tr[data-user="${ADMIN}"] td`).allTextContents()).map((s) => s.trim())
  assert.deepEqual(adminRow.slice(0, 5), [ADMIN, `Dr ${ADMIN}`, 'admin', 'active', 'TOTP, 10 recovery codes'])

  // A refusal is the node's message: a password the policy refuses.
  await admin.fill('form[data-form=add-user] input[name=username]', TECH)
  await admin.fill('form[data-form=add-user] input[name=displayName]', 'Tess One')
  await admin.selectOption('form[data-form=add-user] select[name=role]', 'technologist')
  await admin.fill('form[data-form=add-user] input[name=password]', 'password')
  await admin.click('form[data-form=add-user] button[type=submit]')
  await admin.waitForSelector('form[data-form=add-user] .alert:not([hidden])')
  assert.match(await admin.textContent('form[data-form=add-user] .alert') ?? '', /password/i)
  await admin.screenshot({ path: join(shots, '1-users-refused.png'), fullPage: true })
  // Added.
  await admin.fill('form[data-form=add-user] input[name=password]', TECH_PASSWORD)
  await admin.click('form[data-form=add-user] button[type=submit]')
  await admin.waitForSelector(`form[data-form=add-user] .notice:text("Added ${TECH} (technologist)")`)
  await admin.waitForSelector(`table.users tr[data-user="${TECH}"]`)

  // The technologist signs in in another browser context (no second factor for this role).
  const techContext = await browser.newContext({ viewport: { width: 1100, height: 700 } })
  const tech = await techContext.newPage()
  await tech.goto(node.url + '/')
  await tech.fill('input[name=username]', TECH)
  await tech.fill('input[name=password]', TECH_PASSWORD)
  await tech.click('button[type=submit]')
  await tech.waitForSelector('table.worklist')
  assert.equal(await tech.locator('.bar nav a[data-admin]').count(), 0, 'no admin pages for a technologist')

  // The admin opens the account: its session at this site, then disables it with a reason.
  await admin.click(`table.users tr[data-user="${TECH}"]`)
  await admin.waitForSelector('.user-panel table.sessions tr[data-session]')
  assert.equal(await admin.locator('.user-panel table.sessions tr[data-session]').count(), 1)
  await admin.screenshot({ path: join(shots, '2-users-account.png'), fullPage: true })
  await admin.fill('.user-panel form[data-form=disable] input[name=reason]', 'left the practice')
  await admin.click('.user-panel form[data-form=disable] button[type=submit]')
  await admin.waitForSelector('.user-panel [data-outcome], .user-panel form[data-form=disable] .alert:not([hidden])')
  await admin.screenshot({ path: join(shots, '3-users-disabled.png'), fullPage: true })
  assert.equal(await admin.textContent('.user-panel [data-outcome]'), 'Disabled; its sessions at this site have ended')
  await admin.waitForSelector('.user-panel table.sessions td:text("No session at this site.")')
  await admin.waitForSelector(`table.users tr.disabled[data-user="${TECH}"]`)
  assert.match(await admin.textContent(`tr[data-user="${TECH}"]`) ?? '', /disabled/)
  await admin.waitForSelector('.user-panel form[data-form=enable]')

  // The technologist's open page: the next request is refused, sign-in comes back.
  assert.equal(await status(tech, '/api/session'), 401)
  await tech.click('.bar nav a:text("Worklist")')
  await tech.reload()
  await tech.waitForSelector('form[data-step=password]')
  await tech.fill('input[name=username]', TECH)
  await tech.fill('input[name=password]', TECH_PASSWORD)
  await tech.click('button[type=submit]')
  await tech.waitForSelector('.sign-in [role=alert]:not([hidden])')
  assert.match(await tech.textContent('.sign-in [role=alert]') ?? '', /cannot sign in/)
  await techContext.close()

  // Sessions at this site: the admin's own.
  await admin.click('.bar nav a[data-admin=sessions]')
  await admin.waitForSelector(`table.sessions tr[data-user="${ADMIN}"]`)
  assert.equal(await admin.locator(`table.sessions tr[data-user="${TECH}"]`).count(), 0)
  await admin.screenshot({ path: join(shots, '4-sessions.png'), fullPage: true })

  // Audit: the technologist's sign-ins (110114), the refused one among them.
  await admin.click('.bar nav a[data-admin=audit]')
  await admin.waitForSelector('table.audit tbody tr')
  await admin.fill('form[data-form=audit-search] input[name=user]', TECH)
  await admin.selectOption('form[data-form=audit-search] select[name=event]', '110114')
  await admin.click('form[data-form=audit-search] button[type=submit]')
  await admin.waitForFunction(() => {
    const rows = [...(globalThis as any).document.querySelectorAll('table.audit tbody tr')] as any[]
    return rows.length >= 2 && rows.every((r) => r.dataset.event === '110114')
  })
  const rows = await admin.locator('table.audit tbody tr').allTextContents()
  assert.ok(rows.every((r) => r.includes('User Authentication') && r.includes(TECH)), rows.join('\n'))
  assert.ok(rows.some((r) => /success/.test(r) && /signed in with a password/.test(r)), rows.join('\n'))
  assert.ok(rows.some((r) => /minor failure/.test(r)), 'the refused sign-in after the disable')
  assert.match(await admin.textContent('.openings') ?? '', /None at this site/)
  assert.match(await admin.getAttribute('a[data-action=export-jsonl]', 'href') ?? '', /format=jsonl&user=tech\.one&event=110114/)
  await admin.screenshot({ path: join(shots, '5-audit-search.png'), fullPage: true })

  // An auditor: the Audit page only; the API refuses Users whatever the page shows.
  const auditorContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 })
  const auditor = await auditorContext.newPage()
  await auditor.goto(node.url + '/')
  await signInWithTotp(auditor, AUDITOR)
  await auditor.waitForFunction(() => (globalThis as any).location.hash === '#/admin/audit')
  await auditor.waitForSelector('table.audit tbody tr')
  assert.deepEqual(await auditor.locator('.bar nav a[data-admin]').allTextContents(), ['Audit'])
  assert.equal(await status(auditor, '/api/users'), 403)
  await auditor.evaluate(() => { (globalThis as any).location.hash = '#/admin/users' })
  await auditor.waitForSelector('table.worklist, .status')
  assert.equal(await auditor.locator('table.users').count(), 0, 'no Users page for an auditor')
  await auditor.evaluate(() => { (globalThis as any).location.hash = '#/admin/audit' })
  await auditor.waitForSelector('table.audit tbody tr')
  await auditor.screenshot({ path: join(shots, '6-auditor-audit.png'), fullPage: true })

  // Idle: the page's clock is run forward (the node's is not); reload so the watch starts under it.
  await auditor.clock.install()
  await auditor.reload()
  await auditor.waitForSelector('table.audit tbody tr')
  await auditor.clock.fastForward('14:05')
  await auditor.waitForSelector('.idle-warning:not([hidden])')
  assert.match(await auditor.textContent('.idle-warning') ?? '', /You will be signed out in \d+ s — Stay signed in/)
  const seconds = Number(await auditor.textContent('[data-idle-seconds]'))
  assert.ok(seconds > 0 && seconds <= 60, `counts down the last minute: ${seconds}`)
  await auditor.screenshot({ path: join(shots, '7-idle-warning.png') })
  const ping = auditor.waitForRequest((r) => r.method() === 'GET' && r.url().endsWith('/api/session'))
  await auditor.click('button[data-action=stay-signed-in]')
  await ping
  assert.equal(await status(auditor, '/api/session'), 200, 'still signed in')
  await auditor.clock.fastForward('16:00')
  await auditor.waitForSelector('form[data-step=password]')
  assert.match(await auditor.textContent('.sign-in') ?? '', /You were signed out after 15 minutes without activity/)
  await auditor.screenshot({ path: join(shots, '8-idle-signed-out.png') })
  assert.equal(await status(auditor, '/api/users'), 401, 'the session is gone at the node')

  // Expected refusals only: who is signed in before sign-in, the weak password.
  const expected = /^(answered 401: GET \S+\/api\/session|answered 400: POST \S+\/api\/users|console: Failed to load resource: the server responded with a status of (401|400) .*)$/
  assert.deepEqual(problems.filter((p) => !expected.test(p)), [], 'no console errors, failed requests or CSP violations')
})

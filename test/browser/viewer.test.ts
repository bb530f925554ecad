/**
 * The web viewer in a real browser (Debian's Chromium through playwright-core) against a real
 * node (`peerpacs start` in its own process): a radiologist signs in with a password and enrols
 * TOTP at the first sign-in (the code computed with otpauth from the key the page shows), finds
 * the study in the worklist, opens it, and the pixels read back from the canvas are the greys the
 * window gives the known HU values — the stored W 400 / L 40, then the brain preset W 80 / L 40 —
 * so a wrong window, rescale or decoder fails. Scrolling to the next slice changes the slice
 * number and the pixels of the quadrant that differs between slices. A session ended in another
 * tab brings the sign-in page back at the next request; signing in again with a recovery code.
 * Signing out brings the sign-in page back, and the API is closed to the page again.
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
import { writeManyStudies } from '../synthetic/many-studies.ts'
import { startNode } from '../helpers/node-process.ts'
import { addPerson, browserMissing, canvasPixels, launchChromium, pageProblems, screenshotDir, viewerBuilt } from '../helpers/browser.ts'
import { greyOf, huOf, PATIENT, SLICES, STORED_WINDOW, STUDY_DESCRIPTION, writeKnownCt, type Quadrant } from './known-ct.ts'

/** Other studies beside the known CT, so the worklist has two pages. */
const MANY = 30
const USERNAME = 'rad.viewer'
const PASSWORD = 'quartz-lantern-meadow-42'
/** Where each quadrant's centre is, as a fraction of the fitted image from its centre. */
const POINTS: Readonly<Record<Quadrant, readonly [number, number]>> = { tl: [-0.25, -0.25], tr: [0.25, -0.25], bl: [-0.25, 0.25], br: [0.25, 0.25] }
const QUADRANTS = Object.keys(POINTS) as Quadrant[]
/** Greys may differ from the DICOM formula by rounding and the half-pixel centre convention. */
const TOLERANCE = 4

async function greys (page: Page): Promise<Record<Quadrant, number>> {
  const rgba = await canvasPixels(page, '.stack-view', QUADRANTS.map((q) => POINTS[q]))
  for (const [r, g, b, a] of rgba) assert.ok(r === g && g === b && a === 255, `a grey image is drawn as opaque grey, got rgba ${String([r, g, b, a])}`)
  return Object.fromEntries(QUADRANTS.map((q, i) => [q, rgba[i]![0]!])) as Record<Quadrant, number>
}

function expectGreys (got: Record<Quadrant, number>, slice: number, width: number, center: number): void {
  for (const q of QUADRANTS) {
    const want = greyOf(huOf(q, slice), width, center)
    assert.ok(Math.abs(got[q] - want) <= TOLERANCE, `slice ${slice + 1}, quadrant ${q} (${huOf(q, slice)} HU) at W ${width} L ${center}: grey ${got[q]}, expected ${want} ± ${TOLERANCE} (all: ${JSON.stringify(got)})`)
  }
}

/** Waits until the stack view shows image `index` (0-based) and has drawn it. */
async function shown (page: Page, index: number): Promise<void> {
  await page.waitForSelector(`.stack-view[data-state="loaded"][data-index="${index}"]`, { timeout: 30_000 })
  // One more frame, so the canvas holds what the overlay says.
  await page.evaluate(async () => { await new Promise((resolve) => (globalThis as any).requestAnimationFrame(() => (globalThis as any).requestAnimationFrame(resolve))) })
}

test('a radiologist signs in with TOTP, finds the known CT, reads its pixels at two windows, scrolls, signs out', { skip: browserMissing(), timeout: 240_000 }, async (t) => {
  await viewerBuilt()
  const data = await tempDir(t, 'peerpacs-viewer-')
  const init = await runCli(['init', '--data', data, '--name', 'viewer test'])
  assert.equal(init.code, 0, show(init))
  const files = await tempDir(t, 'peerpacs-viewer-files-')
  const ct = await writeKnownCt(join(files, 'known-ct'))
  const many = await writeManyStudies(join(files, 'many'), MANY)
  const imported = await runCli(['import', '--data', data, ct.dir, many.dir])
  assert.equal(imported.code, 0, show(imported))
  await addPerson(data, USERNAME, 'radiologist', PASSWORD)
  const node = await startNode(t, data)
  t.after(async () => { await node.stop() })

  const shots = await screenshotDir('viewer-shots')
  t.diagnostic(`screenshots: ${shots}`)
  const browser = await launchChromium(t)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
  const page = await context.newPage()
  const problems = pageProblems(page)

  // The page itself: served by the node with a strict CSP.
  const response = await page.goto(node.url + '/')
  assert.equal(response?.status(), 200)
  const csp = response?.headers()['content-security-policy'] ?? ''
  assert.match(csp, /default-src 'self'/)
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, 'no inline script or eval of JavaScript')

  // Sign-in: a wrong password is refused with the node's message.
  await page.fill('input[name=username]', USERNAME)
  await page.fill('input[name=password]', 'not-the-password-at-all')
  await page.click('button[type=submit]')
  await page.waitForSelector('.sign-in [role=alert]:not([hidden])')
  assert.match(await page.textContent('.sign-in [role=alert]') ?? '', /username or password is wrong/i)
  await page.screenshot({ path: join(shots, '1-sign-in-refused.png') })

  await page.fill('input[name=password]', PASSWORD)
  await page.click('button[type=submit]')
  // First sign-in of a radiologist: TOTP enrolment, with the QR code and the key to type.
  await page.waitForSelector('form[data-step=totp-enrol] code.secret[data-secret]')
  await page.waitForSelector('form[data-step=totp-enrol] img.qr')
  const secret = await page.getAttribute('code.secret', 'data-secret')
  assert.match(secret ?? '', /^[A-Z2-7]{16,}$/)
  await page.screenshot({ path: join(shots, '2-totp-enrolment.png') })
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret!), digits: 6, period: 30, algorithm: 'SHA1' })
  await page.fill('input[name=code]', totp.generate())
  await page.click('button[type=submit]')
  // Recovery codes are shown once, then the worklist.
  await page.waitForSelector('ol.codes li')
  assert.equal(await page.locator('ol.codes li').count(), 10)
  const recoveryCodes = (await page.locator('ol.codes li').allTextContents()).map((c) => c.trim())
  await page.screenshot({ path: join(shots, '3-recovery-codes.png') })
  await page.click('text=I have kept them: continue')

  // Worklist: 31 studies in pages of 25; Next, then Previous.
  assert.match(await page.textContent('.who') ?? '', /Dr rad\.viewer \(radiologist\)/)
  const rows = page.locator('table.worklist tbody tr')
  await page.waitForSelector('.pager .range:text("1–25")')
  assert.equal(await rows.count(), 25)
  await page.screenshot({ path: join(shots, '4-worklist.png') })
  await page.click('.pager button:text("Next →")')
  await page.waitForSelector(`.pager .range:text("26–${MANY + 1}")`)
  assert.equal(await rows.count(), MANY + 1 - 25)
  assert.equal(await page.isDisabled('.pager button:text("Next →")'), true)
  const seen = new Set(await rows.evaluateAll((trs) => trs.map((tr: any) => tr.dataset.study as string)))
  await page.click('.pager button:text("← Previous")')
  await page.waitForSelector('.pager .range:text("1–25")')
  for (const uid of await rows.evaluateAll((trs) => trs.map((tr: any) => tr.dataset.study as string))) seen.add(uid)
  assert.equal(seen.size, MANY + 1, 'the two pages together list every study once')

  // Search by name: the known study alone, with its patient, ID, date, modality, description,
  // accession and counts; a name that matches nothing says so.
  const row = page.locator(`tr[data-study="${ct.studyInstanceUid}"]`)
  await page.fill('input[name=name]', 'zzviewer')
  await page.click('form.search button[type=submit]')
  await page.waitForFunction(() => (globalThis as any).location.hash.includes('name=zzviewer'))
  await page.waitForSelector('.pager .range:text("1–1")')
  assert.equal(await rows.count(), 1)
  const cells = (await row.locator('td').allTextContents()).map((s) => s.trim())
  assert.deepEqual(cells, ['ZZVIEWER, KNOWN CT', PATIENT.id, '2024-03-15', 'CT', STUDY_DESCRIPTION, 'ACCVIEW01', '2', String(2 * SLICES)])
  await page.screenshot({ path: join(shots, '5-worklist-search.png') })
  await page.fill('input[name=name]', 'nobody-by-this-name')
  await page.click('form.search button[type=submit]')
  await page.waitForSelector('text=No studies match.')
  // By patient ID and date range too.
  await page.click('form.search button[type=reset]')
  await page.waitForSelector('.pager .range:text("1–25")')
  await page.fill('input[name=id]', 'VIEW-01')
  await page.fill('input[name=from]', '2024-03-01')
  await page.fill('input[name=to]', '2024-03-31')
  await page.click('form.search button[type=submit]')
  await page.waitForSelector('.pager .range:text("1–1")')
  await row.waitFor()

  // Keyboard: ↓ selects the first row, Enter opens it.
  await page.locator('h1').click()
  await page.keyboard.press('ArrowDown')
  const opening = performance.now()
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => (globalThis as any).location.hash.startsWith('#/study/'))
  await shown(page, 0)
  t.diagnostic(`Enter on the worklist row to the first image drawn: ${Math.round(performance.now() - opening)} ms (5 slices of 64×64; a figure, not a limit)`)
  const view = page.locator('.stack-view')
  assert.equal(await view.getAttribute('data-count'), String(SLICES))
  assert.equal(await page.textContent('[data-overlay=slice]'), `Im: 1/${SLICES}`)
  assert.equal(await page.textContent('[data-overlay=window]'), `W: ${STORED_WINDOW.width}  L: ${STORED_WINDOW.center}`)
  assert.match(await page.textContent('.corner.tl') ?? '', /ZZVIEWER, KNOWN CT/)
  // The stored window: -500 HU black, +500 HU white, +40 HU mid-grey, -100 HU dark.
  const first = await greys(page)
  expectGreys(first, 0, STORED_WINDOW.width, STORED_WINDOW.center)
  assert.ok(first.tl <= 2 && first.tr >= 253 && Math.abs(first.bl - 128) <= TOLERANCE, JSON.stringify(first))
  await page.screenshot({ path: join(shots, '6-viewer-stored-window.png') })

  // Scroll: the wheel over the image goes to slice 2, whose bottom-right quadrant is -50 HU.
  const box = await view.boundingBox()
  await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2)
  await page.mouse.wheel(0, 120)
  await shown(page, 1)
  assert.equal(await page.textContent('[data-overlay=slice]'), `Im: 2/${SLICES}`)
  const second = await greys(page)
  expectGreys(second, 1, STORED_WINDOW.width, STORED_WINDOW.center)
  // The arrow keys scroll too: to the last slice (+100 HU bottom right), then back one (+50 HU).
  await view.focus()
  for (let i = 1; i < SLICES - 1; i++) await page.keyboard.press('ArrowDown')
  await shown(page, SLICES - 1)
  const last = await greys(page)
  expectGreys(last, SLICES - 1, STORED_WINDOW.width, STORED_WINDOW.center)
  assert.ok(last.br > second.br + 40, `the bottom-right quadrant brightens from slice 2 to ${SLICES}: ${second.br} → ${last.br}`)
  assert.equal(await page.textContent('[data-overlay=slice]'), `Im: ${SLICES}/${SLICES}`)
  await page.keyboard.press('ArrowUp')
  const k = SLICES - 2
  await shown(page, k)

  // Presets on that slice: brain (W 80 / L 40) puts +50 HU at ~161 and +40 HU at mid-grey;
  // abdomen (W 400 / L 50) puts +50 HU at mid-grey. A wrong width or centre moves these greys.
  await page.click('button[data-preset=brain]')
  await page.waitForSelector('.stack-view[data-window="80"][data-center="40"]')
  await shown(page, k)
  expectGreys(await greys(page), k, 80, 40)
  await page.screenshot({ path: join(shots, '7-viewer-brain-preset.png') })
  await page.click('button[data-preset=abdomen]')
  await page.waitForSelector('.stack-view[data-window="400"][data-center="50"]')
  await shown(page, k)
  expectGreys(await greys(page), k, 400, 50)

  // Invert, then reset (back to the stored window, not inverted).
  await page.click('button[data-action=invert]')
  await page.waitForSelector('.stack-view[data-invert="true"]')
  await shown(page, k)
  const inverted = await greys(page)
  assert.ok(inverted.tl >= 253 && inverted.tr <= 2, `inverted: -500 HU white, +500 HU black: ${JSON.stringify(inverted)}`)
  await page.click('button[data-action=reset]')
  await page.waitForSelector(`.stack-view[data-invert="false"][data-window="${STORED_WINDOW.width}"][data-center="${STORED_WINDOW.center}"]`)

  // Series 2, the same pixels as JPEG-LS lossless, decoded by CharLS (WebAssembly, in the decode
  // worker, under the page's CSP): the same greys.
  await page.click(`.series-list li[data-series="${ct.jpegLsSeriesInstanceUid}"]`)
  await page.waitForSelector('.series-list li[aria-current] >> text=Known quadrants JPEG-LS')
  await shown(page, 0)
  assert.match(await page.textContent('.corner.bl') ?? '', /Se: 2/)
  expectGreys(await greys(page), 0, STORED_WINDOW.width, STORED_WINDOW.center)
  await view.focus()
  await page.keyboard.press('End')
  await shown(page, SLICES - 1)
  expectGreys(await greys(page), SLICES - 1, STORED_WINDOW.width, STORED_WINDOW.center)

  // The About box says it is for review, not a cleared diagnostic device.
  await page.click('button[data-action=about]')
  await page.waitForSelector('dialog.about[open]')
  assert.match(await page.textContent('dialog.about') ?? '', /not a medical device cleared or approved for primary diagnosis/)
  await page.screenshot({ path: join(shots, '8-about.png') })
  await page.click('dialog.about button')

  // The session ended elsewhere (signed out in another tab): the next request brings sign-in
  // back with a notice; signing in again with a recovery code instead of TOTP.
  const other = await context.newPage()
  await other.goto(node.url + '/')
  await other.click('button[data-action=sign-out]')
  await other.waitForSelector('form[data-step=password]')
  await other.close()
  await page.click('a:text("← Worklist")')
  await page.waitForSelector('form[data-step=password]')
  assert.match(await page.textContent('.sign-in') ?? '', /Your session has ended/)
  await page.screenshot({ path: join(shots, '9-session-ended.png') })
  await page.fill('input[name=username]', USERNAME)
  await page.fill('input[name=password]', PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForSelector('form[data-step=totp]')
  await page.click('text=Use a recovery code instead')
  await page.fill('input[name=recovery]', recoveryCodes[0]!)
  await page.click('button[type=submit]')
  await page.waitForSelector('.pager .range:text("1–25")')

  // Sign out: the sign-in page is back, and the session no longer opens the API.
  await page.click('button[data-action=sign-out]')
  await page.waitForSelector('form[data-step=password]')
  assert.match(await page.textContent('.sign-in') ?? '', /You are signed out/)
  await page.screenshot({ path: join(shots, '10-signed-out.png') })
  const after = await page.evaluate(async () => { const r = await (globalThis as any).fetch('/dicomweb/studies'); await r.text(); return r.status })
  assert.equal(after, 401)
  await page.reload()
  await page.waitForSelector('form[data-step=password]')

  // Expected refusals: "who is signed in?" while nobody is, the wrong password, the worklist
  // after the other tab signed out, the check after sign-out.
  const expected = /^(answered 401: (GET|POST) \S+\/api\/session|answered 401: GET \S+\/dicomweb\/studies(\?\S*)?|console: Failed to load resource: the server responded with a status of 401 .*)$/
  assert.deepEqual(problems.filter((p) => !expected.test(p)), [], 'no console errors, failed requests or CSP violations')
})

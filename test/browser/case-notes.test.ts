/**
 * Case notes and measurements in a real browser (Debian's Chromium through playwright-core)
 * against a real node (`peerpacs start` in its own process), on the known CT (test/browser/
 * known-ct.ts: 64×64, PixelSpacing 0.5 mm). A radiologist draws a length with Cornerstone's
 * LengthTool: the value shown (on the image and in the notes panel) is the distance between the
 * saved end points in image pixels × 0.5 mm (±1%). A rectangle ROI inside a quadrant of known HU
 * reads mean 40 HU, SD 0, and its area in mm². The radiologist writes a note; after a reload
 * both are there, each with the author's name, and the length is drawn again. A technologist
 * (this site ingested the study, so they read it) sees them, has no save button, and a POST
 * from their session is refused 403.
 *
 * Two sites: a note written in the viewer at site A appears in the viewer at site B, with its
 * author's name (the case.update op reaches B through the mesh; B opens it with the study key).
 *
 * Screenshots are kept in a folder named in the test output.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import * as OTPAuth from 'otpauth'
import type { Page } from 'playwright-core'
import { childEnv, runCli, show } from '../helpers/cli.ts'
import { tempDir } from '../helpers/files.ts'
import { startNode } from '../helpers/node-process.ts'
import { founder, joinSite, waitFor, waitForStudies } from '../helpers/mesh.ts'
import { addAccount, waitForAccounts } from '../helpers/people-mesh.ts'
import { addPerson, browserMissing, launchChromium, pageProblems, screenshotDir, viewerBuilt } from '../helpers/browser.ts'
import { SLICES, writeKnownCt } from './known-ct.ts'

const PASSWORD = 'harbour-violet-compass-77'
const SPACING_MM = 0.5
const NOTE = 'Left quadrant boundary measured; no further findings.'

async function signIn (page: Page, url: string, username: string): Promise<void> {
  await page.goto(url + '/')
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForSelector('form[data-step=totp-enrol] code.secret[data-secret], table.worklist', { timeout: 30_000 })
  const secret = await page.getAttribute('code.secret', 'data-secret').catch(() => null)
  if (secret === null) return
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' })
  await page.fill('input[name=code]', totp.generate())
  await page.click('button[type=submit]')
  await page.waitForSelector('ol.codes li')
  await page.click('text=I have kept them: continue')
  await page.waitForSelector('table.worklist')
}

async function openStudy (page: Page, study: string, canWrite: boolean): Promise<void> {
  await page.evaluate((uid) => { (globalThis as any).location.hash = `#/study/${uid}` }, study)
  await page.waitForSelector('.stack-view[data-state="loaded"]', { timeout: 60_000 })
  await page.waitForSelector(`.case-notes[data-can-write="${String(canWrite)}"]`, { timeout: 30_000 })
}

/** The number in the panel's text of the first measurement, and that measurement as the node holds it. */
async function savedLength (page: Page, study: string): Promise<{ shown: number, points: number[][], value: number, name: string }> {
  const text = await page.textContent('.case-entries li[data-kind="measurement"] .entry-text') ?? ''
  const m = /Length: ([0-9.]+) mm/.exec(text)
  assert.ok(m !== null, `the panel shows the length in mm, got "${text}"`)
  const entries = await page.evaluate(async (uid) => await (await fetch(`/api/studies/${uid}/case`)).json(), study) as { entries: Array<{ kind: string, name: string, measurement?: { points: number[][], value: number } }> }
  const entry = entries.entries.find((e) => e.kind === 'measurement')!
  return { shown: Number(m[1]), points: entry.measurement!.points, value: entry.measurement!.value, name: entry.name }
}

test('a radiologist measures a length in mm and writes a note; both come back after a reload with the author; a technologist cannot save', { skip: browserMissing(), timeout: 300_000 }, async (t) => {
  await viewerBuilt()
  const data = await tempDir(t, 'peerpacs-case-notes-')
  const init = await runCli(['init', '--data', data, '--name', 'case notes test'])
  assert.equal(init.code, 0, show(init))
  const files = await tempDir(t, 'peerpacs-case-notes-files-')
  const ct = await writeKnownCt(join(files, 'known-ct'))
  const imported = await runCli(['import', '--data', data, ct.dir])
  assert.equal(imported.code, 0, show(imported))
  for (const [user, role] of [['rad.notes', 'radiologist'], ['tech.notes', 'technologist']]) {
    await addPerson(data, user!, role!, PASSWORD)
  }
  const node = await startNode(t, data)
  t.after(async () => { await node.stop() })

  const shots = await screenshotDir('case-notes-shots')
  t.diagnostic(`screenshots: ${shots}`)
  const browser = await launchChromium(t)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
  const page = await context.newPage()
  const problems = pageProblems(page)
  await signIn(page, node.url, 'rad.notes')
  await openStudy(page, ct.studyInstanceUid, true)
  await page.waitForSelector('.case-entries li.empty')

  // A length across the image, drawn with the mouse.
  await page.click('button[data-tool="length"]')
  const box = (await page.locator('.stack-canvas').boundingBox())!
  const y = box.y + box.height * 0.5
  await page.mouse.move(box.x + box.width * 0.3, y)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 })
  await page.mouse.move(box.x + box.width * 0.7, y, { steps: 5 })
  await page.mouse.up()
  await page.waitForSelector('.case-entries li[data-kind="measurement"]', { timeout: 30_000 })
  const first = await savedLength(page, ct.studyInstanceUid)
  const [p, q] = first.points as [[number, number], [number, number]]
  const expected = Math.hypot(q[0] - p[0], q[1] - p[1]) * SPACING_MM
  t.diagnostic(`length: shown ${first.shown} mm, saved value ${first.value}, expected from the end points ${expected.toFixed(3)} mm (points ${JSON.stringify(first.points)})`)
  assert.ok(expected > 5, `the line spans a good part of the 32 mm image, got ${expected} mm`)
  assert.ok(Math.abs(first.shown - expected) <= expected * 0.01, `shown ${first.shown} mm, expected ${expected.toFixed(3)} ± 1%`)
  assert.ok(Math.abs(first.value - expected) <= expected * 0.01)
  assert.equal(first.name, 'Dr rad.notes')
  // The tool's own label on the image says the same.
  const onImage = await page.locator('.stack-view svg text').allTextContents()
  assert.ok(onImage.some((s) => { const m = /([0-9.]+) mm/.exec(s); return m !== null && Math.abs(Number(m[1]) - expected) <= expected * 0.01 }), `the image's label shows the length: ${JSON.stringify(onImage)}`)

  // A rectangle ROI inside the bottom-left quadrant (+40 HU on every slice): mean 40 HU, SD 0,
  // and the area of its corners' rectangle in 0.5 mm pixels.
  await page.click('button[data-tool="rectangle"]')
  const side = Math.min(box.width, box.height)
  const at = (fx: number, fy: number): [number, number] => [box.x + box.width / 2 + fx * side, box.y + box.height / 2 + fy * side]
  await page.mouse.move(...at(-0.4, 0.1))
  await page.mouse.down()
  await page.mouse.move(...at(-0.25, 0.25), { steps: 5 })
  await page.mouse.move(...at(-0.1, 0.4), { steps: 5 })
  await page.mouse.up()
  await page.waitForSelector('.case-entries li[data-kind="measurement"]:nth-child(2)', { timeout: 30_000 })
  const roiText = await page.textContent('.case-entries li[data-kind="measurement"]:nth-child(2) .entry-text') ?? ''
  const roi = (await page.evaluate(async (uid) => await (await fetch(`/api/studies/${uid}/case`)).json(), ct.studyInstanceUid) as { entries: Array<{ measurement?: { tool: string, points: number[][], value: number, unit: string, text: string } }> })
    .entries.map((e) => e.measurement).find((m) => m?.tool === 'rectangle')!
  const xs = roi.points.map((pt) => pt[0]!)
  const ys = roi.points.map((pt) => pt[1]!)
  const area = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)) * SPACING_MM * SPACING_MM
  t.diagnostic(`rectangle ROI: "${roiText}", saved ${roi.value} ${roi.unit}, expected area ${area.toFixed(2)} mm²`)
  t.diagnostic(`labels on the image: ${JSON.stringify(await page.locator('.stack-view svg text').allTextContents())}`)
  assert.match(roiText, /^Rectangle ROI: [0-9.]+ mm² \(mean 40 HU, SD 0 HU\)$/)
  assert.ok(Math.abs(roi.value - area) <= area * 0.01, `area ${roi.value}, expected ${area} ± 1%`)
  await page.click('button[data-tool="window"]')

  // A note.
  await page.fill('.note-form textarea', NOTE)
  await page.click('.save-note')
  await page.waitForSelector('.case-entries li[data-kind="note"]')
  await page.screenshot({ path: join(shots, '1-measured-and-noted.png') })

  // Reload: both are there, with the author, and the length is drawn again.
  await page.reload()
  await page.waitForSelector('.stack-view[data-state="loaded"]', { timeout: 60_000 })
  await page.waitForSelector('.case-notes[data-count="3"]', { timeout: 30_000 })
  const metas = await page.locator('.case-entries li .entry-meta').allTextContents()
  assert.equal(metas.length, 3)
  for (const meta of metas) assert.match(meta, /^Dr rad\.notes · /)
  assert.equal((await page.textContent('.case-entries li[data-kind="note"] .entry-text'))?.trim(), NOTE)
  const again = await savedLength(page, ct.studyInstanceUid)
  assert.equal(again.shown, first.shown)
  await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('.stack-view svg text')].some((n: any) => / mm/.test(n.textContent)), undefined, { timeout: 15_000 })
  await page.screenshot({ path: join(shots, '2-after-reload.png') })

  // A technologist: reads them, no save button, and the node refuses a write (403).
  const techContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
  const tech = await techContext.newPage()
  await signIn(tech, node.url, 'tech.notes')
  await openStudy(tech, ct.studyInstanceUid, false)
  await tech.waitForSelector('.case-notes[data-count="3"]')
  assert.equal(await tech.locator('.save-note').isVisible(), false, 'no save button')
  assert.equal(await tech.locator('.note-form textarea').isVisible(), false, 'no note box')
  const refused = await tech.evaluate(async (uid) => {
    const session = await (await fetch('/api/session')).json() as { csrf: string }
    const answer = await fetch(`/api/studies/${uid}/case`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf }, body: JSON.stringify({ kind: 'note', text: 'not allowed' }) })
    return answer.status
  }, ct.studyInstanceUid)
  assert.equal(refused, 403)
  await tech.screenshot({ path: join(shots, '3-technologist.png') })
  // Expected: "who is signed in?" before signing in.
  const allowed = /^(answered 401: GET \S+\/api\/session|console: Failed to load resource: the server responded with a status of 401 .*)$/
  assert.deepEqual(problems.filter((p) => !allowed.test(p)), [], 'no console errors, failed requests or CSP violations')
})

test('a note written in the viewer at site A appears in the viewer at site B with its author', { skip: browserMissing(), timeout: 300_000 }, async (t) => {
  await viewerBuilt()
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const files = await tempDir(t, 'peerpacs-case-notes-mesh-')
  const ct = await writeKnownCt(join(files, 'known-ct'))
  // The uncompressed series is enough here (storescu would have to propose JPEG-LS for the other).
  const plain = Array.from({ length: SLICES }, (_, k) => join(ct.dir, `ct-${k + 1}.dcm`))
  await promisify(execFile)('storescu', ['-aet', 'MODALITY', '-aec', 'PEERPACS', '127.0.0.1', String(a.process.dicomPort), ...plain], { env: childEnv({ TCP_NODELAY: '1' }) })
  await waitForStudies(a, 1)
  await waitForStudies(b, 1)
  await addAccount(a, { username: 'rad.a', role: 'radiologist', password: PASSWORD, displayName: 'Dr Site A' })
  await addAccount(b, { username: 'rad.b', role: 'radiologist', password: PASSWORD, displayName: 'Dr Site B' })
  await waitForAccounts(b, ['rad.a', 'rad.b'])

  const browser = await launchChromium(t)
  const atA = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })).newPage()
  await signIn(atA, a.process.url, 'rad.a')
  await openStudy(atA, ct.studyInstanceUid, true)
  await atA.fill('.note-form textarea', 'Written at site A.')
  await atA.click('.save-note')
  await atA.waitForSelector('.case-entries li[data-kind="note"]')

  const atB = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })).newPage()
  await signIn(atB, b.process.url, 'rad.b')
  await openStudy(atB, ct.studyInstanceUid, true)
  // The op travels A → B through the mesh: reopen the study until it is there.
  await waitFor('the note from A in the viewer at B', async () => {
    if (await atB.locator('.case-entries li[data-kind="note"]').count() > 0) return true
    await atB.reload()
    await atB.waitForSelector('.case-notes[data-count]', { timeout: 30_000 })
    return false
  }, 90_000)
  assert.equal((await atB.textContent('.case-entries li[data-kind="note"] .entry-text'))?.trim(), 'Written at site A.')
  assert.match(await atB.textContent('.case-entries li[data-kind="note"] .entry-meta') ?? '', /^Dr Site A · /)
  const shots = await screenshotDir('case-notes-mesh-shots')
  t.diagnostic(`screenshots: ${shots}`)
  await atB.screenshot({ path: join(shots, 'note-from-a-at-b.png') })
})

/**
 * A real browser for the viewer tests: Debian's Chromium (`/usr/bin/chromium`, or
 * $PEERPACS_CHROMIUM; `.ci/run` installs it) driven by playwright-core, which downloads no browser
 * of its own. Tests skip with a reason when it is absent. The browser is closed by the test.
 *
 * Also: the viewer build (made when missing or stale, as `npm install` does), a folder for the
 * screenshots a test keeps (kept after the test, named in its output), and reading pixels back
 * from the viewport's canvas.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ensureViewer } from '../../scripts/build-viewer.ts'
import { runCli, show } from './cli.ts'

export const CHROMIUM = process.env.PEERPACS_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing (): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install it (apt-get install chromium, as .ci/run does) or set PEERPACS_CHROMIUM`
}

/** Builds viewer/dist when it is missing or older than its sources. */
export async function viewerBuilt (): Promise<void> {
  await ensureViewer((line) => { process.stderr.write(`# ${line.split('\n')[0]}\n`) })
}

export async function launchChromium (t: Pick<TestContext, 'after'>): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // WebGL in a headless browser without a GPU: SwiftShader, Chromium's software renderer.
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 60_000
  })
  t.after(async () => { await browser.close() })
  return browser
}

/** A folder for a test's screenshots, kept after the run so a person can look at them. */
export async function screenshotDir (label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `peerpacs-${label}-`))
  await mkdir(dir, { recursive: true })
  return dir
}

/** Console errors, failed requests and CSP violations a page reported, for assertions. */
export function pageProblems (page: Page): string[] {
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()} (${message.location().url})`) })
  page.on('pageerror', (error) => { problems.push(`page error: ${error.message}`) })
  page.on('requestfailed', (request) => { problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`) })
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`answered ${response.status()}: ${response.request().method()} ${response.url()}`) })
  return problems
}

/**
 * RGBA at points of a square image fitted (centred, filling the shorter side) into the canvas
 * inside `selector`: (fx, fy) from -0.5 to 0.5 across the image, (0, 0) its centre. Read with
 * getImageData on the 2D canvas Cornerstone draws into.
 */
export async function canvasPixels (page: Page, selector: string, points: ReadonlyArray<readonly [number, number]>): Promise<number[][]> {
  return await page.evaluate(({ selector, points }) => {
    const doc = (globalThis as any).document
    const canvas = doc.querySelector(`${selector} canvas`)
    if (canvas === null) throw new Error(`no canvas in ${selector}`)
    const context = canvas.getContext('2d', { willReadFrequently: true })
    if (context === null) throw new Error('the canvas has no 2D context')
    return points.map(([fx, fy]) => {
      const side = Math.min(canvas.width, canvas.height)
      const x = Math.floor(canvas.width / 2 + fx * side)
      const y = Math.floor(canvas.height / 2 + fy * side)
      return Array.from(context.getImageData(x, y, 1, 1).data as ArrayLike<number>)
    })
  }, { selector, points })
}

/**
 * Adds a person's account to a stopped site's data dir with the CLI a site operator uses
 * (`peerpacs users add … --password-file`), display name "Dr USERNAME".
 */
export async function addPerson (data: string, username: string, role: string, password: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peerpacs-password-'))
  try {
    const file = join(dir, 'password')
    await writeFile(file, password, { mode: 0o600 })
    const added = await runCli(['users', 'add', username, '--role', role, '--display-name', `Dr ${username}`, '--password-file', file, '--data', data])
    if (added.code !== 0) throw new Error(`adding ${username} failed: ${show(added)}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The enrolment QR code: the SVG is read back into its module grid and checked against the
 * standard's geometry (17 + 4 * version modules a side, finder patterns at three corners, timing
 * patterns, the 4-module quiet zone) and against the symbol qrcode says it encoded; the terminal
 * forms hold one character row per two module rows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import QRCode from 'qrcode'
import { InvalidArgumentError } from '../../../../protocol/errors.ts'
import { qrSvg, qrTerminal } from '../../../../node/people/qr.ts'
import { totpUri } from '../../../../node/people/totp.ts'

const URI = totpUri({ secret: new Uint8Array(20).fill(0x5a), account: 'jöns.berg', issuer: 'Clinic North' })

/** The dark modules the SVG's path draws (qrcode writes rows of `M x y+0.5`, `h n`, `m dx 0`). */
function readSvg (svg: string): { side: number, dark: boolean[][] } {
  const view = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)
  assert.ok(view !== null, 'a viewBox')
  const side = Number(view[1])
  assert.equal(Number(view[2]), side, 'square')
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg)
  assert.ok(d !== null, 'a dark path')
  const dark = Array.from({ length: side }, () => new Array<boolean>(side).fill(false))
  let x = 0
  let y = 0
  for (const [, cmd, a, b] of d[1]!.matchAll(/([MmHh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (cmd === 'M') { x = Number(a); y = Number(b) - 0.5 } else if (cmd === 'm') { x += Number(a); y += Number(b ?? 0) } else if (cmd === 'h') {
      for (let i = 0; i < Number(a); i++) dark[y]![x + i] = true
      x += Number(a)
    } else assert.fail(`unexpected path command ${cmd}`)
  }
  return { side, dark }
}

function finderAt (dark: boolean[][], top: number, left: number): boolean {
  for (let r = 0; r < 7; r++) {
    for (let c = 0; c < 7; c++) {
      const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3)) // 3: outer ring, 2: white ring, 0-1: core
      if (dark[top + r]![left + c] !== (ring !== 2)) return false
    }
  }
  return true
}

test('qrSvg: an otpauth URI as a QR symbol of 17 + 4v modules, finders, timing, quiet zone, same modules as encoded', async () => {
  const svg = await qrSvg(URI)
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" /)
  const symbol = QRCode.create(URI, { errorCorrectionLevel: 'M' })
  const size = 17 + 4 * symbol.version
  assert.equal(symbol.modules.size, size)
  // An otpauth URI of this length fits in versions 5 to 9 at level M (byte mode: 84 to 180 bytes).
  assert.ok(symbol.version >= 5 && symbol.version <= 9, `version ${symbol.version} for ${URI.length} characters`)
  const { side, dark } = readSvg(svg)
  assert.equal(side, size + 8, 'the symbol plus a 4-module quiet zone each side')
  const q = 4
  for (let i = 0; i < side; i++) {
    for (const [r, c] of [[i, 0], [i, q - 1], [0, i], [q - 1, i], [i, side - 1], [i, side - q], [side - 1, i], [side - q, i]] as const) {
      assert.equal(dark[r]![c], false, `quiet zone at ${r},${c}`)
    }
  }
  assert.ok(finderAt(dark, q, q), 'finder top left')
  assert.ok(finderAt(dark, q, q + size - 7), 'finder top right')
  assert.ok(finderAt(dark, q + size - 7, q), 'finder bottom left')
  assert.ok(!finderAt(dark, q + size - 7, q + size - 7), 'no finder bottom right')
  for (let i = 8; i < size - 8; i++) {
    assert.equal(dark[q + 6]![q + i], i % 2 === 0, `horizontal timing module ${i}`)
    assert.equal(dark[q + i]![q + 6], i % 2 === 0, `vertical timing module ${i}`)
  }
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) assert.equal(dark[q + r]![q + c], symbol.modules.get(r, c) === 1, `module ${r},${c}`)
  }
})

test('qrTerminal: half blocks, one text row per two module rows; ANSI black on white by default, bare blocks on request', async () => {
  const size = QRCode.create(URI, { errorCorrectionLevel: 'M' }).modules.size
  const ansi = await qrTerminal(URI)
  assert.match(ansi, /\x1b\[47m\x1b\[30m/, 'black on white')
  assert.match(ansi, /[▀▄█]/)
  const plain = await qrTerminal(URI, { ansi: false })
  assert.doesNotMatch(plain, /\x1b/)
  const rows = plain.split('\n')
  assert.equal(rows.length, Math.ceil(size / 2) + 2, 'symbol rows in pairs, one quiet row above and below')
  for (const row of rows) assert.equal([...row].length, size + 4, 'the symbol plus 2 quiet modules each side')
  assert.match(rows[1]!, /^ {2}█▀▀▀▀▀█ /, 'the top edge of the top-left finder')
})

test('both refuse what is not text of reasonable length', async () => {
  for (const bad of ['', 'x'.repeat(1025), undefined, 42, new Uint8Array(4)]) {
    await assert.rejects(qrSvg(bad as string), InvalidArgumentError)
    await assert.rejects(qrTerminal(bad as string), InvalidArgumentError)
  }
})

/**
 * protocol/ is pure and portable (DESIGN: "no Node-only APIs: runs in Node and in a browser").
 * Scans every .ts file in protocol/ for Node built-in imports, imports that leave protocol/
 * (../node, ../viewer), and Node globals (process, Buffer, require, __dirname); and type-checks
 * protocol/ without Node's types (tsc -p protocol), with a probe proving that check would fail.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const protocolDir = join(root, 'protocol')
const tsc = join(root, 'node_modules', '.bin', 'tsc')
// Every .ts file under protocol/, subfolders included (protocol/log/op.ts, …), as paths relative to it.
const files = (readdirSync(protocolDir, { recursive: true }) as string[]).map(name => name.split('\\').join('/')).filter(name => name.endsWith('.ts')).sort()
const builtins = new Set(builtinModules.flatMap(name => [name, name.replace(/^node:/, '')]))
const dependencies = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies)

function stripComments (source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1')
}

function specifiers (source: string): string[] {
  const code = stripComments(source)
  const out: string[] = []
  for (const re of [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g]) {
    for (const match of code.matchAll(re)) out.push(match[1]!)
  }
  return out
}

const GLOBALS: Array<[RegExp, string]> = [
  [/\bprocess\s*\./, 'process.'],
  [/\bBuffer\b/, 'Buffer'],
  [/\brequire\s*\(/, 'require('],
  [/\b__dirname\b/, '__dirname'],
  [/\b__filename\b/, '__filename'],
  [/\bglobal\s*\./, 'global.'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bmodule\.exports\b/, 'module.exports']
]

/** Whether relative import `spec` in protocol/`file` stays inside protocol/. */
function insideProtocol (file: string, spec: string): boolean {
  const parts = file.split('/').slice(0, -1)
  for (const part of spec.split('/').slice(0, -1)) {
    if (part === '.') continue
    if (part === '..') { if (parts.length === 0) return false; parts.pop() } else parts.push(part)
  }
  return true
}

/** Every reason `source` (protocol/`file`) is not portable protocol code. */
function violations (source: string, file = 'probe.ts'): string[] {
  const out: string[] = []
  for (const spec of specifiers(source)) {
    const base = spec.split('/')[0]!
    if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(base)) out.push(`imports the Node built-in '${spec}'`)
    else if (spec.startsWith('.') && !insideProtocol(file, spec)) out.push(`imports '${spec}', outside protocol/`)
    else if (/(^|\/)(node|viewer)(\/|$)/.test(spec) && spec.startsWith('.')) out.push(`imports '${spec}'`)
    else if (spec.startsWith('.') && !spec.endsWith('.ts')) out.push(`imports '${spec}' without its .ts extension`)
    else if (!spec.startsWith('.')) {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : base
      if (!dependencies.includes(pkg)) out.push(`imports '${spec}', which is not a dependency in package.json`)
    }
  }
  const code = stripComments(source)
  for (const [re, name] of GLOBALS) if (re.test(code)) out.push(`uses the Node global ${name}`)
  return out
}

test('the scanner catches what it is meant to catch (positive control)', () => {
  const bad: Array<[string, RegExp]> = [
    ["import { readFileSync } from 'node:fs'", /node:fs/],
    ["import { createHash } from 'crypto'", /'crypto'/],
    ["import * as path from 'path'", /'path'/],
    ["import { Buffer as B } from 'buffer'", /'buffer'/],
    ["import 'node:process'", /node:process/],
    ["const fs = await import('fs/promises')", /fs\/promises/],
    ["export { x } from 'node:util'", /node:util/],
    ["import { Store } from '../node/store/kv.ts'", /outside protocol/],
    ["import type { Page } from '../viewer/page.ts'", /outside protocol/],
    ["import { x } from './bytes'", /extension/],
    ["import { x } from 'left-pad'", /not a dependency/],
    ['const home = process.env.HOME', /process\./],
    ["const b = Buffer.from('x')", /Buffer/],
    ["const m = require('fs')", /require/],
    ['const here = __dirname', /__dirname/]
  ]
  for (const [source, reason] of bad) {
    const found = violations(source)
    assert.ok(found.some(v => reason.test(v)), `${source} → ${JSON.stringify(found)}`)
  }
  const fine = [
    "import { x } from './bytes.ts' // node:crypto in a comment is fine",
    '/* process.env and Buffer in a comment */ const a = new ArrayBuffer(1)',
    "import { sha256 } from '@noble/hashes/sha2.js'",
    "import type { RandomSource } from './random.ts'"
  ]
  for (const source of fine) assert.deepEqual(violations(source), [], source)
  // In a subfolder, '../' reaches protocol/ itself, and one more level leaves it.
  assert.deepEqual(violations("import { x } from '../bytes.ts'", 'log/op.ts'), [])
  assert.ok(violations("import { x } from '../bytes'", 'log/op.ts').some(v => /extension/.test(v)))
  assert.ok(violations("import { Store } from '../../node/store/kv.ts'", 'log/op.ts').some(v => /outside protocol/.test(v)))
  assert.ok(violations("import { x } from '../bytes.ts'", 'bytes2.ts').some(v => /outside protocol/.test(v)))
})

test('no file in protocol/ imports Node built-ins, leaves protocol/, or uses Node globals', () => {
  assert.ok(files.length >= 17, `found ${files.length} files in protocol/`)
  for (const expected of ['bytes.ts', 'canonical.ts', 'aead-stream.ts', 'identity.ts', 'genesis.ts', 'log/op.ts', 'log/op-log.ts']) assert.ok(files.includes(expected), expected)
  const report: string[] = []
  for (const file of files) {
    for (const v of violations(readFileSync(join(protocolDir, file), 'utf8'), file)) report.push(`protocol/${file} ${v}`)
  }
  assert.deepEqual(report, [])
})

test('every protocol/ module opens with a comment saying what it is for', () => {
  for (const file of files) {
    const source = readFileSync(join(protocolDir, file), 'utf8')
    assert.match(source, /^\s*(\/\*\*|\/\/)/, `protocol/${file}`)
  }
})

test('protocol/ type-checks without Node\'s types (tsc -p protocol)', () => {
  const config = JSON.parse(readFileSync(join(protocolDir, 'tsconfig.json'), 'utf8')) as { compilerOptions: { types?: string[], lib?: string[] } }
  assert.deepEqual(config.compilerOptions.types, [], 'protocol/tsconfig.json must not load @types/node')
  const result = spawnSync(tsc, ['-p', 'protocol'], { cwd: root, encoding: 'utf8' })
  assert.equal(result.error, undefined)
  assert.equal(result.status, 0, `tsc -p protocol failed:\n${result.stdout}${result.stderr}`)
})

test('that type-check would fail on a Node-only API (probe compiled with protocol/tsconfig.json)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peerpacs-purity-'))
  try {
    writeFileSync(join(dir, 'probe.ts'), "export const probe: unknown = Buffer.from('x')\n")
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(protocolDir, 'tsconfig.json'), include: [join(dir, 'probe.ts')] }))
    const result = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' })
    assert.notEqual(result.status, 0, 'the probe using Buffer compiled: protocol/ is not checked without Node types')
    assert.match(`${result.stdout}${result.stderr}`, /Buffer/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

#!/usr/bin/env node
// The `peerpacs` command. peerpacs runs on Node >= 22 (TypeScript sources run as they are, by
// type stripping). The project installs such a Node from npm (the `node` package); when this
// launcher is started by an older Node on PATH, it runs the CLI on that bundled one instead.
// Written for any Node version: plain JavaScript, no TypeScript.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import module from 'node:module'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../node/cli/main.ts', import.meta.url))
const major = Number(process.versions.node.split('.')[0])
// Node's compile cache keeps each module's type-stripped and compiled code between runs, so a
// command does not strip its TypeScript again every time (measured: --help 240 ms -> 80 ms). It
// lives in the project's own node_modules, owned by whoever installed it, never in a shared /tmp
// where another user could plant code for it.
const compileCache = fileURLToPath(new URL('../node_modules/.cache/peerpacs-compile', import.meta.url))

if (major >= 22 && process.features.typescript) {
  process.umask(0o077)
  module.enableCompileCache?.(compileCache)
  const { main } = await import(new URL('../node/cli/main.ts', import.meta.url).href)
  process.exitCode = await main(process.argv.slice(2))
} else {
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(bundled)) {
    console.error(`peerpacs needs Node >= 22 (this is ${process.version}); run \`npm install\` in ${fileURLToPath(new URL('..', import.meta.url))} to get it`)
    process.exit(70)
  }
  const child = spawn(bundled, [cli, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, NODE_COMPILE_CACHE: compileCache } })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal === null ? 70 : 128) })
}

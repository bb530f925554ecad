/**
 * The arrows between folders point one way (docs/architecture.md "Layers"): protocol/ imports
 * nothing of node/; inside node/, nothing below the daemon and CLI layers imports from them;
 * the daemon does not import the CLI (types included). And no module imports itself through
 * others (value imports: `import type` is erased and cannot form a cycle at run time; a dynamic
 * `import()` counts, as it loads the module all the same).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

function sources (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** Each source file (relative to the project) and the project files it imports (as values only, or types too). */
function importGraph (withTypes: boolean): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  const statement = withTypes ? /^(?:import|export)\s+[^'";]*?from\s+'(\.[^']+)'/gm : /^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/gm
  for (const file of [...sources(join(ROOT, 'node')), ...sources(join(ROOT, 'protocol'))]) {
    const text = readFileSync(file, 'utf8')
    const targets = [
      ...[...text.matchAll(statement)].map((m) => m[1]!),
      ...[...text.matchAll(/\bimport\('(\.[^']+)'\)/g)].map((m) => m[1]!)
    ]
    graph.set(relative(ROOT, file), targets.map((t) => relative(ROOT, resolve(dirname(file), t))).filter((t) => t.endsWith('.ts')))
  }
  return graph
}

/** Strongly connected components of more than one module (Tarjan), or a module importing itself. */
function cycles (graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

const graph = importGraph(false)

test('the import graph is read: it holds the project\'s modules and their imports', () => {
  assert.ok(graph.size > 150, `${graph.size} modules`)
  assert.ok((graph.get('node/cli/main.ts') ?? []).includes('node/cli/commands/index.ts'))
  // The detector finds a cycle when there is one.
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']])
})

test('no import cycles among the modules of node/ and protocol/', () => {
  assert.deepEqual(cycles(graph), [])
})

test('protocol/ imports nothing of node/; below the daemon and CLI, nothing imports them; the daemon does not import the CLI', () => {
  const wrong: string[] = []
  // Types too: a type imported from above is a dependency on the layer above all the same.
  for (const [file, targets] of importGraph(true)) {
    for (const target of targets) {
      const up = file.startsWith('protocol/')
        ? !target.startsWith('protocol/')
        : file.startsWith('node/daemon/')
          ? target.startsWith('node/cli/')
          : !file.startsWith('node/cli/') && (target.startsWith('node/daemon/') || target.startsWith('node/cli/'))
      if (up) wrong.push(`${file} -> ${target}`)
    }
  }
  assert.deepEqual(wrong, [])
})

test('index keys are spelled only in store/key-space.ts', () => {
  const KEY_LITERAL = /(?:\bkey: |\.(?:get|entries)\()\[\s*'[^']*'/g
  // What it looks for, as the mesh spelled its bootstrap key before.
  assert.equal([..."stored: async () => await archive.kv.get(['mesh', 'bootstrap'])".matchAll(KEY_LITERAL)].length, 1)
  const spelled: string[] = []
  for (const file of sources(join(ROOT, 'node'))) {
    if (file.endsWith('store/key-space.ts')) continue
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(KEY_LITERAL)) spelled.push(`${relative(ROOT, file)}: ${m[0]}`)
  }
  assert.deepEqual(spelled, [])
})

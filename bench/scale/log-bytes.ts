/**
 * What the archive costs in the index, read-only and with no keys: the signed ops in the
 * journal (count, bytes, and by op type: count and mean size), and the bytes under each other
 * part of the key space (study, instance, sop, blob records…). Each op's type is read from
 * its canonical payload without verifying it (`peerpacs log verify` is timed separately).
 * Run as its own process while no node holds the data dir (level's lock).
 *
 *   node bench/scale/log-bytes.ts --data DIR      one JSON line
 */
import { parseArgs } from 'node:util'
import { decodeCanonical } from '../../protocol/canonical.ts'
import { decodeEnvelope } from '../../protocol/envelope.ts'
import { dataDirLayout } from '../../node/store/data-dir.ts'
import { keys } from '../../node/store/key-space.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'

const { values } = parseArgs({ options: { data: { type: 'string' } } })
if (values.data === undefined) throw new Error('usage: node bench/scale/log-bytes.ts --data DIR')
const kv = await LevelKvStore.open(dataDirLayout(values.data).indexDir)
const byType = new Map<string, { count: number, bytes: number }>()
const byPrefix = new Map<string, { count: number, bytes: number }>()
let ops = 0
let opBytes = 0
try {
  for await (const [key, value] of kv.entries([])) {
    const prefix = byPrefix.get(key[0]!) ?? { count: 0, bytes: 0 }
    prefix.count++
    prefix.bytes += key.join('\0').length + value.length
    byPrefix.set(key[0]!, prefix)
    if (key[0] !== keys.journal[0]) continue
    ops++
    opBytes += value.length
    let type = 'undecodable'
    try {
      const payload = decodeCanonical(decodeEnvelope(value).payload) as Record<string, unknown>
      if (typeof payload.type === 'string') type = payload.type
    } catch { /* counted as undecodable */ }
    const t = byType.get(type) ?? { count: 0, bytes: 0 }
    t.count++
    t.bytes += value.length
    byType.set(type, t)
  }
} finally {
  await kv.close()
}
const table = (m: Map<string, { count: number, bytes: number }>): Record<string, { count: number, bytes: number, meanBytes: number }> =>
  Object.fromEntries([...m].sort((a, b) => b[1].bytes - a[1].bytes).map(([k, v]) => [k, { ...v, meanBytes: Math.round(v.bytes / v.count) }]))
console.log(JSON.stringify({ ops, opBytes, byType: table(byType), kv: table(byPrefix) }))

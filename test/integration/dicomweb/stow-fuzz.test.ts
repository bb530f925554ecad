/**
 * A few hundred seeded mutations of valid files (bytes flipped, cut, inserted, deleted) sent
 * through STOW-RS over a real data dir: every response is a per-instance verdict, the server keeps
 * answering, whatever was reported stored comes back byte for byte as it was sent, and fsck finds
 * the archive consistent. A failure replays from its seed.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { fsck } from '../../../node/archive/fsck.ts'
import { multipartBody, startDicomweb } from '../../helpers/dicomweb-server.ts'
import { Prng } from '../../synthetic/prng.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

const SEED = 0x5eed
const MUTATIONS = 300
const PER_REQUEST = 25

function mutate (rng: Prng, file: Uint8Array): Uint8Array {
  const pick = (n: number): number => rng.nextU32() % n
  const at = pick(file.length)
  switch (pick(4)) {
    case 0: {
      const out = Uint8Array.from(file)
      for (let k = 1 + pick(8); k > 0; k--) { const i = pick(out.length); out[i] = out[i]! ^ (1 << pick(8)) }
      return out
    }
    case 1: return file.slice(0, at)
    case 2: return Buffer.concat([file.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256))), file.subarray(at)])
    default: return Buffer.concat([file.subarray(0, at), file.subarray(Math.min(file.length, at + 1 + pick(16)))])
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('STOW-RS under random mutations', () => {
  test(`${MUTATIONS} mutated files leave the server alive and the archive consistent`, async (t) => {
    const server = await startDicomweb(t, { store: 'data-dir' })
    const rng = new Prng(SEED)
    // Mostly the header-heavy small files, so mutations land in the structure, not only in pixels.
    const originals = syntheticStudy({ seed: 71 }).filter((i) => i.bytes.length < 20000)
    const sent = new Map<string, Uint8Array>()
    const verdicts = { stored: 0, failed: 0 }
    for (let n = 0; n < MUTATIONS; n += PER_REQUEST) {
      const parts = Array.from({ length: PER_REQUEST }, () => mutate(rng, originals[rng.nextU32() % originals.length]!.bytes))
      for (const p of parts) sent.set(sha(p), p)
      const { body, contentType } = multipartBody(parts)
      const r = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body })
      assert.ok([200, 202, 409].includes(r.status), `request at mutation ${n} (seed ${SEED}): ${r.status}`)
      const json = await r.json() as Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>
      const ok = json['00081199']?.Value?.length ?? 0
      const failed = json['00081198']?.Value ?? []
      assert.equal(ok + failed.length, PER_REQUEST, 'a verdict for every part')
      for (const f of failed) assert.ok(String(f['00000902']?.Value?.[0] ?? '').length > 0, 'every failure says why')
      verdicts.stored += ok
      verdicts.failed += failed.length
    }
    assert.ok(verdicts.failed > MUTATIONS / 3, `most mutations are refused (${verdicts.failed} failed)`)
    // The originals still go in, and everything held comes back exactly as one of the files sent.
    const { body, contentType } = multipartBody(originals.map((o) => o.bytes))
    for (const o of originals) sent.set(sha(o.bytes), o.bytes)
    const r = await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body })
    assert.ok([200, 202, 409].includes(r.status))
    await r.arrayBuffer()
    for await (const instance of server.pacs.everyInstance()) {
      const back = await fetch(`${server.root}/studies/${instance.studyInstanceUid}/series/${instance.seriesInstanceUid}/instances/${instance.sopInstanceUid}`,
        { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } })
      assert.equal(back.status, 200)
      const bytes = Buffer.from(await back.arrayBuffer())
      const start = bytes.indexOf('\r\n\r\n') + 4
      const end = bytes.lastIndexOf('\r\n--', bytes.length - 3)
      assert.ok(sent.has(sha(bytes.subarray(start, end))), 'a stored instance is byte-identical to a file that was sent')
    }
    const report = await server.pacs.exclusive(async () => await fsck(server.archive, { keyless: false, repair: false }))
    assert.deepEqual(report.problems, [])
    assert.equal(report.checked.instances, server.pacs.instanceCount)
    assert.equal((await fetch(`${server.root}/studies`)).status, 200)
  })
})

/**
 * Invariant 1 at rest: after importing studies with known patient names, ids, UIDs and a known
 * pixel pattern, no file anywhere under the data dir contains any of them, nor the recovery
 * key, nor the node's secret keys or the epoch key in clear. Keys sealed with a passphrase.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { decodeRecoveryKey } from '../../protocol/recovery-key.ts'
import { utf8Encode } from '../../protocol/bytes.ts'
import { nobleProvider } from '../../protocol/crypto-provider.ts'
import { openEpochWithRecoveryKey, readOrgFile, unlockKeyring } from '../../node/keys/keyring.ts'
import { LevelKvStore } from '../../node/store/kv-level.ts'
import { runCli, show } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { findNeedles, listFiles, tempDir, type Needle } from '../helpers/files.ts'
import { KNOWN_PATIENTS, KNOWN_PIXEL_PATTERN } from '../synthetic/study.ts'

const PASSPHRASE = 'correct horse battery staple'

it('no plaintext PHI, pixel data or key material anywhere in the data dir', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const set = await writeStudies(join(root, 'in'), KNOWN_PATIENTS.map((patient, i) => ({ seed: 100 + i, patient, profile: 'mixed' as const, studyDescription: `AT REST STUDY ${i}` })))
  const env = { PEERPACS_PASSPHRASE: PASSPHRASE }
  const init = await runCli(['init', '--data', data, '--json'], env)
  assert.equal(init.code, 0, show(init))
  const recoveryKey = init.records.find((r) => r.type === 'init')!.recoveryKey as string
  const imported = await runCli(['import', '--data', data, set.dir], env)
  assert.equal(imported.code, 0, show(imported))

  const needles: Needle[] = []
  const text = (label: string, value: string): void => { needles.push({ label, bytes: utf8Encode(value) }) }
  for (const p of KNOWN_PATIENTS) {
    text(`patient name ${p.name}`, p.name)
    text(`patient name part ${p.name.split('^')[0]!}`, p.name.split('^')[0]!)
    text(`patient id ${p.id}`, p.id)
  }
  for (const [uid] of set.studies) text(`StudyInstanceUID ${uid}`, uid)
  for (const i of set.instances) {
    text(`SOPInstanceUID ${i.sopInstanceUid}`, i.sopInstanceUid)
    text(`SeriesInstanceUID ${i.seriesInstanceUid}`, i.seriesInstanceUid)
  }
  text('study description', 'AT REST STUDY')
  needles.push({ label: 'known pixel pattern', bytes: KNOWN_PIXEL_PATTERN })
  // 48 bytes from the middle of each uncompressed file: pixel data beyond the marker.
  for (const i of set.instances.filter((x) => x.pixelPatternVerbatim)) {
    const mid = Math.floor(i.bytes.length * 0.75)
    needles.push({ label: `pixel bytes of ${i.relativePath}`, bytes: i.bytes.subarray(mid, mid + 48) })
  }
  text('recovery key text', recoveryKey)
  const seed = decodeRecoveryKey(nobleProvider, recoveryKey)
  needles.push({ label: 'recovery key seed', bytes: seed })
  const keysDir = join(data, 'keys')
  const keyring = await unlockKeyring(keysDir, PASSPHRASE, nobleProvider)
  needles.push({ label: 'node secret key', bytes: keyring.nodeKey.secretKey })
  needles.push({ label: 'index lookup key', bytes: keyring.lookupKey })
  needles.push({ label: 'epoch key', bytes: keyring.epochKey(keyring.orgId) })
  // The recovery key really is what opens the org's content key.
  assert.deepEqual(openEpochWithRecoveryKey(nobleProvider, await readOrgFile(keysDir, nobleProvider), seed), keyring.epochKey(keyring.orgId))

  // The needles are really there in what was imported (the scan would find them).
  const sourceHits = await findNeedles(set.dir, needles.filter((n) => n.label.startsWith('patient name ZZ') || n.label === 'known pixel pattern'))
  assert.ok(sourceHits.length > 0, 'the scan finds the needles in the source files')

  const files = await listFiles(data)
  assert.ok(files.some((f) => f.includes(`${join(data, 'index')}`)), 'the index is part of the scan')
  assert.ok(files.some((f) => f.includes(`${join(data, 'blobs')}`)), 'the blobs are part of the scan')
  const hits = await findNeedles(data, needles)
  assert.deepEqual(hits, [], `plaintext found at rest:\n${hits.map((h) => `${h.file}: ${h.label}`).join('\n')}`)

  // LevelDB compresses its tables (snappy), so a raw file scan could miss a plaintext value in
  // them: read every key and value back through level and scan those too.
  const index = await LevelKvStore.open(join(data, 'index'))
  const indexHits: string[] = []
  let entries = 0
  for await (const [key, value] of index.entries([])) {
    entries++
    const keyBytes = Buffer.from(key.join('/'))
    for (const needle of needles) {
      if (keyBytes.indexOf(needle.bytes) !== -1) indexHits.push(`key ${key.join('/')}: ${needle.label}`)
      if (Buffer.from(value).indexOf(needle.bytes) !== -1) indexHits.push(`value of ${key.join('/')}: ${needle.label}`)
    }
  }
  await index.close()
  assert.ok(entries >= set.instances.length * 3, `the index was read (${entries} entries)`)
  assert.deepEqual(indexHits, [], `plaintext in the index:\n${indexHits.join('\n')}`)

  // And the node can still read it all back with the passphrase.
  const list = await runCli(['studies', '--data', data, '--json'], env)
  assert.equal(list.code, 0, show(list))
  assert.equal(list.records.filter((r) => r.type === 'study').length, KNOWN_PATIENTS.length)
  assert.equal(JSON.parse(await readFile(join(data, 'peerpacs.json'), 'utf8')).orgId, keyring.orgId)
})

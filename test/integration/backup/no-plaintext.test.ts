/**
 * Invariant 1 on the backup: site A stores studies with known patient names, ids, UIDs and a
 * known pixel pattern; a backup node joins and receives every op and every blob (each verified
 * against the log). Afterwards no file under the backup's data dir, no value of its index read
 * back through level (LevelDB compresses, so a raw scan alone could miss one), and no op or blob
 * it received contains any of them, nor A's epoch key or secrets; the backup holds no epoch key;
 * and `export` on it fails with a clear error.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { unlockKeyring } from '../../../node/keys/keyring.ts'
import { decodeOp } from '../../../protocol/log/index.ts'
import { LevelKvStore } from '../../../node/store/kv-level.ts'
import { runCli, show } from '../../helpers/cli.ts'
import { writeStudies } from '../../helpers/dataset.ts'
import { findNeedles, listFiles, tempDir, type Needle } from '../../helpers/files.ts'
import { founder, joinSite, status, waitFor } from '../../helpers/mesh.ts'
import { KNOWN_PATIENTS, KNOWN_PIXEL_PATTERN } from '../../synthetic/study.ts'

test('the backup holds every blob and op, and no plaintext, no key', async (t) => {
  const root = await tempDir(t, 'peerpacs-backup-')
  const a = await founder(t, 'A')
  const backup = await joinSite(t, a, 'backup', 'backup')
  const set = await writeStudies(join(root, 'in'), KNOWN_PATIENTS.map((patient, i) => ({ seed: 300 + i, patient, profile: 'mixed' as const, studyDescription: `BACKUP STUDY ${i}` })))
  const imported = await runCli(['import', set.dir, '--data', a.data])
  assert.equal(imported.code, 0, show(imported))
  const s = await waitFor('the backup to hold every blob', async () => {
    const st = await status(backup)
    return st.mesh.studies.local === set.studies.size && st.mesh.studies.partial === 0 ? st : undefined
  })
  assert.equal(s.instances, 0, 'the backup has no readable instance in its catalogue')

  const refused = await runCli(['export', [...set.studies.keys()][0]!, join(root, 'out'), '--data', backup.data])
  assert.equal(refused.code, 4, show(refused))
  assert.match(refused.stderr, /backup: it holds no key/)

  await backup.process.stop('SIGTERM')
  await a.process.stop('SIGTERM')
  const keysA = await unlockKeyring(join(a.data, 'keys'), undefined, nobleProvider)
  const keysBackup = await unlockKeyring(join(backup.data, 'keys'), undefined, nobleProvider)
  assert.equal(keysBackup.hasEpochKey, false, 'the backup holds no epoch key')

  const needles: Needle[] = []
  const text = (label: string, value: string): void => { needles.push({ label, bytes: utf8Encode(value) }) }
  for (const p of KNOWN_PATIENTS) {
    text(`patient name ${p.name}`, p.name)
    text(`patient id ${p.id}`, p.id)
  }
  for (const [uid] of set.studies) text(`StudyInstanceUID ${uid}`, uid)
  for (const i of set.instances) text(`SOPInstanceUID ${i.sopInstanceUid}`, i.sopInstanceUid)
  text('study description', 'BACKUP STUDY')
  needles.push({ label: 'known pixel pattern', bytes: KNOWN_PIXEL_PATTERN })
  for (const i of set.instances.filter((x) => x.pixelPatternVerbatim)) {
    const mid = Math.floor(i.bytes.length * 0.75)
    needles.push({ label: `pixel bytes of ${i.relativePath}`, bytes: i.bytes.subarray(mid, mid + 48) })
  }
  for (const { id, key } of keysA.epochKeys()) needles.push({ label: `epoch key ${id}`, bytes: key })
  needles.push({ label: 'A\'s node secret key', bytes: keysA.nodeKey.secretKey })
  needles.push({ label: 'A\'s lookup key', bytes: keysA.lookupKey })

  // The scan does find what it looks for: in A's source files.
  assert.ok((await findNeedles(set.dir, needles.filter((n) => n.label.startsWith('patient name')))).length > 0)

  const files = await listFiles(backup.data)
  assert.ok(files.some((f) => f.includes(join(backup.data, 'blobs'))), 'the blobs are scanned')
  const hits = await findNeedles(backup.data, needles)
  assert.deepEqual(hits, [], `plaintext on the backup:\n${hits.map((h) => `${h.file}: ${h.label}`).join('\n')}`)

  // Every op it received (the journal) and every index value, decompressed by level.
  const index = await LevelKvStore.open(join(backup.data, 'index'))
  const indexHits: string[] = []
  const held = new Set<string>()
  for await (const [key, value] of index.entries([])) {
    if (key[0] === 'oplog') held.add(Buffer.from(value).toString('hex'))
    for (const needle of needles) if (Buffer.from(value).indexOf(needle.bytes) !== -1) indexHits.push(`${key.join('/')}: ${needle.label}`)
  }
  await index.close()
  // Every op A wrote (its instances are in study.instances ops, several per op) is on the backup,
  // but the audit record of A's own stop, written after the backup had stopped.
  const indexA = await LevelKvStore.open(join(a.data, 'index'))
  const missing: string[] = []
  for await (const [, value] of indexA.entries(['oplog'])) if (!held.has(Buffer.from(value).toString('hex'))) missing.push(decodeOp(nobleProvider, value).type)
  await indexA.close()
  assert.ok(held.size > set.studies.size, `the backup's journal holds the ops (${held.size})`)
  assert.ok(missing.length <= 1 && missing.every((type) => type === 'audit.event'), `every op of A is in the backup's journal; missing: ${missing.join(', ')}`)
  assert.deepEqual(indexHits, [], `plaintext in the backup's index or journal:\n${indexHits.join('\n')}`)
})

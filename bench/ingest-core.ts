/**
 * The ingest core without the network, for `npm run bench:ingest -- --mode core`: takes the
 * files of a synthetic set, strips each Part 10 meta as a DIMSE edge receives a bare dataset,
 * and feeds the dataset in 16 KiB pieces (storescu's PDV size against a 16 KiB max PDU) to
 * Pacs.ingestDataset over a real data dir, one instance after another, as a synchronous
 * storescu would. Run as its own process so its peak RSS is the node's alone.
 *
 *   node bench/ingest-core.ts --data NEWDIR --set DIR      initialises NEWDIR, prints one JSON line
 *
 * Every file is read into memory before the clock starts (the network delivers bytes, it does
 * not read them from disk); reading happens in batches so the harness itself stays small.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { nativeProvider } from '../node/crypto/native-provider.ts'
import { Archive } from '../node/archive/archive.ts'
import { Pacs } from '../node/pacs/pacs.ts'
import type { FileMetaFields } from '../node/dicom/file-meta-writer.ts'
import { createKeyring } from '../node/keys/keyring.ts'
import { keys } from '../node/archive/index-layout.ts'
import { LevelKvStore } from '../node/store/kv-level.ts'
import { DATA_DIR_FORMAT, DATA_DIR_VERSION, dataDirLayout, prepareNewDataDir, writeDataDirMeta } from '../node/store/data-dir.ts'
import { utf8Encode } from '../protocol/bytes.ts'
import { platformRandom } from '../protocol/random.ts'

const PDV = 16384 - 12

async function listFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await listFiles(path))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

/** Splits a Part 10 file into its meta fields and the bare dataset (explicit VR little endian meta). */
export function splitPart10 (file: Uint8Array): { fields: FileMetaFields, dataset: Uint8Array } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  let offset = 132
  const text: Record<number, string> = {}
  let end = Infinity
  while (offset < end && offset < file.length && view.getUint16(offset, true) === 0x0002) {
    const element = view.getUint16(offset + 2, true)
    const vr = String.fromCharCode(file[offset + 4]!, file[offset + 5]!)
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)
    const length = long ? view.getUint32(offset + 8, true) : view.getUint16(offset + 6, true)
    const value = offset + (long ? 12 : 8)
    if (element === 0x0000) end = value + 4 + view.getUint32(value, true)
    else text[element] = new TextDecoder().decode(file.subarray(value, value + length)).replace(/[\0 ]+$/, '')
    offset = value + length
  }
  return { fields: { sopClassUid: text[0x0002]!, sopInstanceUid: text[0x0003]!, transferSyntaxUid: text[0x0010]!, sourceAeTitle: 'STORESCU' }, dataset: file.subarray(offset) }
}

/** What `peerpacs init` does (without a passphrase), so the harness needs no CLI. */
async function initDataDir (root: string): Promise<void> {
  const layout = dataDirLayout(root)
  await prepareNewDataDir(layout)
  const { keyring } = await createKeyring(layout.keysDir, { passphrase: undefined, orgName: 'bench', provider: nativeProvider, random: platformRandom, now: Date.now() })
  const index = await LevelKvStore.open(layout.indexDir, { create: true })
  await index.batch([{ type: 'put', key: keys.owner, value: utf8Encode(keyring.nodeId) }])
  await index.close()
  await writeDataDirMeta(layout, { format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId: keyring.nodeId, orgId: keyring.orgId, orgName: 'bench', created: new Date().toISOString() })
}

async function * pieces (dataset: Uint8Array): AsyncIterable<Uint8Array> {
  // Each PDV arrives as its own buffer, as a socket parser hands them out.
  for (let i = 0; i < dataset.length; i += PDV) yield dataset.slice(i, i + PDV)
}

function vmHwm (): number {
  return process.resourceUsage().maxRSS * 1024
}

const { values } = parseArgs({ options: { data: { type: 'string' }, set: { type: 'string' }, batch: { type: 'string', default: '16' } } })
if (values.data === undefined || values.set === undefined) throw new Error('usage: node bench/ingest-core.ts --data DIR --set DIR')
const files = await listFiles(values.set)
await initDataDir(values.data)
const archive = await Archive.open(values.data, { keys: 'required', passphrase: undefined, provider: nativeProvider, random: platformRandom, command: 'bench' })
const pacs = await Pacs.load(archive)
let bytes = 0
let imported = 0
let busy = 0
const batch = Number(values.batch)
for (let i = 0; i < files.length; i += batch) {
  const loaded = await Promise.all(files.slice(i, i + batch).map(async (path) => splitPart10(await readFile(path))))
  const started = performance.now()
  for (const { fields, dataset } of loaded) {
    const result = await pacs.ingestDataset(pieces(dataset), fields)
    if (result.status === 'imported') imported++
    bytes += result.size
  }
  busy += performance.now() - started
}
await archive.close()
console.log(JSON.stringify({ files: files.length, imported, bytes, seconds: busy / 1000, maxRssBytes: vmHwm() }))

/**
 * Fills an initialised data dir with the planned archive (plan.ts) through the ingest core,
 * without DIMSE: each instance's bare dataset goes to Pacs.ingestDataset as a C-STORE would
 * hand it over. Studies are written in order; within a study, up to --concurrency instances
 * are in flight at once (a modality sending over parallel associations). Run as its own
 * process (by scale.ts) so its RSS is its own.
 *
 *   node bench/scale/generate.ts --data DIR --instances N --studies S [--concurrency 4] [--from 0]
 *
 * Progress goes to stderr; one JSON line to stdout at the end.
 */
import { parseArgs } from 'node:util'
import { nativeProvider } from '../../node/crypto/native-provider.ts'
import { Archive } from '../../node/archive/archive.ts'
import { Pacs } from '../../node/pacs/pacs.ts'
import { parseFileMeta } from '../../node/dicom/file-meta.ts'
import { platformRandom } from '../../protocol/random.ts'
import { checkShape, studyPlan } from './plan.ts'
import { studyInstances, type PlannedInstance } from './instances.ts'

const { values } = parseArgs({ options: { data: { type: 'string' }, instances: { type: 'string' }, studies: { type: 'string' }, concurrency: { type: 'string', default: '4' }, from: { type: 'string', default: '0' } } })
if (values.data === undefined || values.instances === undefined || values.studies === undefined) {
  throw new Error('usage: node bench/scale/generate.ts --data DIR --instances N --studies S [--concurrency 4] [--from 0]')
}
const shape = { instances: Number(values.instances), studies: Number(values.studies) }
checkShape(shape)
const concurrency = Math.max(1, Number(values.concurrency))

const archive = await Archive.open(values.data, { keys: 'required', passphrase: undefined, provider: nativeProvider, random: platformRandom, command: 'bench-scale' })
const pacs = await Pacs.load(archive)

async function ingest (instance: PlannedInstance): Promise<boolean> {
  const meta = parseFileMeta(instance.bytes, instance.bytes.length)!
  async function * dataset (): AsyncIterable<Uint8Array> { yield instance.bytes.subarray(meta.metaEnd) }
  const result = await pacs.ingestDataset(dataset(), { sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid, transferSyntaxUid: meta.transferSyntaxUid, sourceAeTitle: 'SCALEGEN' })
  return result.status === 'imported'
}

let imported = 0
let bytes = 0
const started = performance.now()
let reported = started
for (let i = Number(values.from); i < shape.studies; i++) {
  const instances = studyInstances(studyPlan(i, shape))
  for (const instance of instances) bytes += instance.bytes.length
  // The first instance creates the study record; the rest of the study may then arrive in parallel.
  if (await ingest(instances[0]!)) imported++
  for (let k = 1; k < instances.length; k += concurrency) {
    const done = await Promise.all(instances.slice(k, k + concurrency).map(ingest))
    imported += done.filter(Boolean).length
  }
  const now = performance.now()
  if (now - reported > 10_000) {
    reported = now
    process.stderr.write(`  generated ${i + 1}/${shape.studies} studies, ${imported} instances, ${(imported / ((now - started) / 1000)).toFixed(0)} instances/s\n`)
  }
}
const seconds = (performance.now() - started) / 1000
await archive.close()
console.log(JSON.stringify({ studies: shape.studies, instances: imported, fileBytes: bytes, seconds, instancesPerSecond: imported / seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }))

/**
 * `npm run bench:log`: the signed log's costs (docs/log.md), in one run on one thread: ops/s to
 * create and sign realistic `audit.event` ops, ops/s to verify them (decodeOp, native and noble),
 * the time and peak RSS of rebuilding the org state from 100k ops (what a node does at open), and
 * the bytes the log spends per audit event and per instance. Prints the figures beside the
 * issue's targets (≥ 8,000 verified ops/s per core; a 100k-op rebuild under 15 s), met or
 * missed. Asserts nothing.
 *
 *   npm run bench:log -- [--ops 100000] [--sample 10000] [--noble 500] [--json]
 *
 * Signing is always @noble/ed25519 (identity.ts signBytes); createOp then decodes its own op
 * with the provider given (here the native one, as the node does), so "create + sign" includes
 * one verification. The rebuild log is generated first (its time printed apart): a founder adds
 * two site members and a backup, starts epochs, hands a specialist a study and takes it back (a
 * few dozen membership ops); the three site nodes write study.register / study.instance ops for
 * the studies they receive and audit.event ops for C-STORE, WADO, QIDO and C-MOVE, in batches
 * written concurrently (each node on the heads it last synced) and then merged, so the DAG has
 * the forks and merges of a real org.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  instancesAccessedEvent, instancesTransferredEvent, nodeSource, queryEvent, sealAuditRecord, STUDY_ROOT_FIND,
  type AuditRecord, type StudyRef
} from '../protocol/audit/index.ts'
import { BLOCK_SIZE, blobIdOf, blockCount } from '../protocol/blob-id.ts'
import { utf8Encode } from '../protocol/bytes.ts'
import { nobleProvider, type CryptoProvider } from '../protocol/crypto-provider.ts'
import type { OrgId } from '../protocol/genesis.ts'
import { generateNodeKey, nodeIdFromPublicKey, signBytes, type NodeId, type NodeKeyPair } from '../protocol/identity.ts'
import {
  createEpoch, createOp, createOrg, decodeOp, MAX_BATCH_INSTANCES, OpLog, stateDigest,
  type AddStatus, type OpBodies, type OpType, type SignedOp
} from '../protocol/log/index.ts'
import { platformRandom } from '../protocol/random.ts'
import { secretboxSeal } from '../protocol/secretbox.ts'
import { newStudyId, type StudyId } from '../protocol/study-id.ts'
import { remoteAe, studyRefs, thisNode, tokenUser } from '../node/audit/actors.ts'
import { encodeStudyAttributes, type InstanceAttributes } from '../node/archive/index-layout.ts'
import { sealInstanceList } from '../node/archive/instance-list.ts'
import { provider } from '../node/runtime.ts'

const USAGE = `usage: npm run bench:log -- [options]

Measures the signed log on one thread: create + sign and verify (native and noble) of
audit.event ops, the state rebuild from a generated log (open: decode + verify + apply; and
replay), peak RSS, and the bytes per audit event and per instance op. Prints the targets beside.

  --ops N         ops in the generated log to rebuild (default 100000)
  --sample N      audit.event ops created and verified natively (default 10000)
  --noble N       of those, how many noble verifies (~2.5 ms each; default 500)
  --json          print one JSON object instead of the table
  -h, --help      show this text
`

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '100000' }, sample: { type: 'string', default: '10000' }, noble: { type: 'string', default: '500' },
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'rebuild-from': { type: 'string' }
  }
})
if (values.help === true) { process.stdout.write(USAGE); process.exit(0) }
function count (name: string, min: number): number {
  const n = Number(values[name as 'ops'])
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: an integer ≥ ${min} expected, got ${values[name as 'ops']}`)
  return n
}
const OPS = count('ops', 100)
const SAMPLE = count('sample', 100)
const NOBLE = Math.min(count('noble', 1), SAMPLE)

const TARGET_VERIFY = 8000 // verified ops/s per core
const TARGET_REBUILD_S = 15 // for 100k ops
const MB = 1e6
const results: Record<string, unknown> = {}

function say (line: string): void { if (values.json !== true) console.log(line) }
function seconds (start: bigint): number { return Number(process.hrtime.bigint() - start) / 1e9 }
function rate (n: number, s: number): string { return `${Math.round(n / s).toLocaleString('en-US').padStart(7)} ops/s` }
function perOp (n: number, s: number): string { return `${(s / n * 1e6).toFixed(1).padStart(7)} µs/op` }
function mark (met: boolean): string { return met ? 'met' : 'MISSED' }
function mean (xs: readonly number[]): number { return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length }

/** Peak resident set (VmHWM) in bytes; resourceUsage's maxRSS where /proc is not there. */
function peakRss (): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024
}
/** A full GC between phases, so one phase's garbage does not land in the next one's figures. */
const gc: () => void = (() => {
  try { setFlagsFromString('--expose-gc'); return runInNewContext('gc') as () => void } catch { return () => {} }
})()

// ---- Deterministic choices (the keys and nonces are random; the mix of events is not) ----
let seed = 2026
function rnd (): number { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
function int (lo: number, hi: number): number { return lo + Math.floor(rnd() * (hi - lo + 1)) }
function pick<T> (xs: readonly T[]): T { return xs[Math.floor(rnd() * xs.length)]! }
function digits (n: number): string { let s = String(int(1, 9)); while (s.length < n) s += String(int(0, 9)); return s }
const UID_ROOT = '1.2.826.0.1.3680043.8.498.'
function uid (): string { return UID_ROOT + digits(int(28, 36)) }

// ---- Studies as the archive sees them ----
const SOP = { ct: '1.2.840.10008.5.1.4.1.1.2', mr: '1.2.840.10008.5.1.4.1.1.4', dx: '1.2.840.10008.5.1.4.1.1.1.1' } as const
const PROFILES = [
  { modality: 'CT', sop: SOP.ct, weight: 0.4, instances: [60, 250], size: [520_000, 530_000], rows: 512, desc: 'CT THORAX ABDOMEN', body: 'CHEST' },
  { modality: 'MR', sop: SOP.mr, weight: 0.3, instances: [20, 200], size: [130_000, 540_000], rows: 256, desc: 'MR KNEE LEFT', body: 'KNEE' },
  { modality: 'DX', sop: SOP.dx, weight: 0.3, instances: [1, 4], size: [8_000_000, 20_000_000], rows: 3000, desc: 'XR CHEST PA AND LAT', body: 'CHEST' }
] as const
const FAMILY = ['MUELLER', 'SCHMIDT', 'GARCIA', 'NGUYEN', 'ROSSI', 'OKAFOR', 'JOHANSSON', 'KOWALSKI', 'DUBOIS', 'TANAKA']
const GIVEN = ['ANNA', 'PETER', 'MARIA', 'JOHN', 'LUCIA', 'AHMED', 'SOFIA', 'LARS', 'EMMA', 'KENJI']

interface Study {
  id: StudyId, uid: string, patientId: string, patientName: string, profile: typeof PROFILES[number], series: string[],
  instances: number, dataKey: Uint8Array, recordKey: Uint8Array
}

function newStudy (): Study {
  let r = rnd()
  const profile = PROFILES.find((p) => (r -= p.weight) < 0) ?? PROFILES[0]
  const instances = int(profile.instances[0], profile.instances[1])
  const series = Array.from({ length: profile.modality === 'DX' ? instances : int(2, 6) }, uid)
  return {
    id: newStudyId(platformRandom), uid: uid(), patientId: `PAT${digits(7)}`, patientName: `${pick(FAMILY)}^${pick(GIVEN)}`,
    profile, series, instances, dataKey: platformRandom(32), recordKey: platformRandom(32)
  }
}

function studyAttributes (s: Study) {
  return {
    studyInstanceUid: s.uid, patientName: s.patientName, patientId: s.patientId, patientBirthDate: `19${digits(2)}0${int(1, 9)}1${int(0, 9)}`,
    patientSex: pick(['F', 'M']), studyDate: '20260114', studyTime: '101532', studyDescription: s.profile.desc,
    accessionNumber: `ACC${digits(8)}`, referringPhysicianName: `${pick(FAMILY)}^${pick(GIVEN)}`, studyId: digits(5)
  }
}

function studyRef (s: Study, instances = s.instances): StudyRef {
  return { studyUid: s.uid, patientId: s.patientId, patientName: s.patientName, sopClasses: [{ uid: s.profile.sop, instances }] }
}

// ---- The audit events a node writes (node/dimse/audit.ts, node/dicomweb/audit.ts) ----
type AuditKind = 'C-STORE received' | 'WADO read' | 'QIDO query' | 'C-MOVE sent'
const AUDIT_KINDS: readonly AuditKind[] = ['C-STORE received', 'WADO read', 'QIDO query', 'C-MOVE sent']
const MODALITIES = [['CT_SIEMENS_1', '10.20.1.31'], ['MR_GE_3T', '10.20.1.32'], ['DX_ROOM2', '10.20.1.45']] as const
const USERS = [{ id: 'k3v9q2', name: 'Dr. Anna Keller (reading room 1)' }, { id: 'p8m2x7', name: 'Dr. Lars Johansson' }, { id: 'w4n6t1', name: 'OHIF viewer, ward 3' }]

function cStoreEvent (self: { nodeId: NodeId }, s: Study, time: number): AuditRecord {
  const [ae, address] = MODALITIES[PROFILES.indexOf(s.profile)]!
  const headers = Array.from({ length: s.instances }, () => ({ studyInstanceUid: s.uid, patientId: s.patientId, patientName: s.patientName, sopClassUid: s.profile.sop }))
  return instancesTransferredEvent({
    time, source: nodeSource(self.nodeId), action: 'C', from: remoteAe(ae, address), to: thisNode(self.nodeId, 'PEERPACS'), requestedBy: 'from', studies: studyRefs(headers)
  })[0]!
}

function readEvent (self: { nodeId: NodeId }, s: Study, time: number): { kind: AuditKind, record: AuditRecord } {
  const r = rnd()
  const source = nodeSource(self.nodeId)
  const user = pick(USERS)
  if (r < 0.7) {
    const instances = rnd() < 0.5 ? s.instances : Math.max(1, Math.round(s.instances / s.series.length))
    return { kind: 'WADO read', record: instancesAccessedEvent({ time, source, action: 'R', user: tokenUser(user, `10.20.${int(2, 9)}.${int(10, 250)}`), studies: [studyRef(s, instances)] })[0]! }
  }
  if (r < 0.85) {
    const query = `/studies?PatientID=${s.patientId}&StudyDate=20250101-20260131&includefield=StudyDescription&limit=25`
    return { kind: 'QIDO query', record: queryEvent({ time, source, from: tokenUser(user, `10.20.${int(2, 9)}.${int(10, 250)}`), to: thisNode(self.nodeId), sopClassUid: STUDY_ROOT_FIND, query: utf8Encode(query) }) }
  }
  return {
    kind: 'C-MOVE sent',
    record: instancesTransferredEvent({
      time, source, action: 'R', from: thisNode(self.nodeId, 'PEERPACS'), to: remoteAe('WS_READING1', '10.20.3.17'), requestedBy: 'to', studies: [studyRef(s)]
    })[0]!
  }
}

// ---- The rebuild, run in a child process of this script (--rebuild-from FILE) ----
interface Rebuild {
  openSeconds: number, decodeSeconds: number, replaySeconds: number, statuses: Partial<Record<AddStatus, number>>, studies: number, auditEvents: number,
  digestsEqual: boolean, peakRss: number, rssAtStart: number, heapAfterOpen: number
}

/** Op bytes one after another, each after its length (u32 big-endian): the journal as a file. */
function frame (ops: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(ops.reduce((a, b) => a + 4 + b.length, 0))
  const view = new DataView(out.buffer)
  let at = 0
  for (const op of ops) { view.setUint32(at, op.length); out.set(op, at + 4); at += 4 + op.length }
  return out
}

function unframe (bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ops: Uint8Array[] = []
  for (let at = 0; at < bytes.length;) { const n = view.getUint32(at); ops.push(bytes.slice(at + 4, at + 4 + n)); at += 4 + n }
  return ops
}

async function rebuild (file: string): Promise<Rebuild> {
  const [genesis, ...ops] = unframe(await readFile(file))
  gc()
  const rssAtStart = process.memoryUsage().rss
  let start = process.hrtime.bigint()
  const oplog = new OpLog(provider, genesis!)
  const added = oplog.addMany(ops)
  const openSeconds = seconds(start)
  gc()
  const heapAfterOpen = process.memoryUsage().heapUsed
  const statuses: Partial<Record<AddStatus, number>> = {}
  for (const r of added) statuses[r.status] = (statuses[r.status] ?? 0) + 1
  start = process.hrtime.bigint()
  const replayed = oplog.replay()
  const replaySeconds = seconds(start)
  const peak = peakRss()
  const digestsEqual = stateDigest(provider, replayed) === stateDigest(provider, oplog.state)
  // decodeOp alone over the same bytes (warm now), to split the open into verify and the rest.
  start = process.hrtime.bigint()
  for (const b of ops) decodeOp(provider, b)
  const decodeSeconds = seconds(start)
  return {
    openSeconds, decodeSeconds, replaySeconds, statuses, studies: oplog.state.studies.size, auditEvents: [...oplog.state.audit.values()].reduce((a, l) => a + l.length, 0),
    digestsEqual, peakRss: peak, rssAtStart, heapAfterOpen
  }
}

if (values['rebuild-from'] !== undefined) {
  console.log(JSON.stringify(await rebuild(values['rebuild-from'])))
  process.exit(0)
}

const machine = { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` }
results.machine = machine
say(`peerpacs log benchmark: ${machine.cpu}, ${machine.cores} cores, node ${machine.node} (${machine.platform}); one thread`)

// ---- The org: founder, recovery key, genesis ----
const recovery = generateNodeKey(platformRandom)
const founderKey = generateNodeKey(platformRandom)
const genesisTime = 1_767_225_600_000 // 2026-01-01
const org = createOrg(provider, platformRandom, founderKey, { name: 'Klinikum Nord Radiology', recoveryPublicKey: recovery.publicKey, time: genesisTime })
const orgId: OrgId = org.orgId
const genesisBytes = org.op.bytes

// ==== 1. Create + sign: audit.event ops on one author's chain ====
{
  const self = { nodeId: nodeIdFromPublicKey(founderKey.publicKey) }
  const studies = Array.from({ length: 64 }, newStudy)
  const records: AuditRecord[] = []
  for (let i = 0; i < SAMPLE; i++) {
    const s = pick(studies)
    records.push(i % 10 === 0 ? cStoreEvent(self, s, genesisTime + i * 1000) : readEvent(self, s, genesisTime + i * 1000).record)
  }
  const epochKey = platformRandom(32)
  const epochId = org.op.id
  const context = { org: orgId, author: founderKey.publicKey }
  // Warm-up (JIT), on a side chain of its own.
  let parents = [org.op.id]
  for (let i = 0; i < 200; i++) {
    const op = createOp(provider, founderKey, { org: orgId, seq: 2 + i, parents, type: 'audit.event', body: { epoch: epochId, sealed: sealAuditRecord(provider, platformRandom, epochKey, context, records[i % records.length]!) }, time: genesisTime + i })
    parents = [op.id]
    decodeOp(provider, op.bytes)
  }
  gc()
  let start = process.hrtime.bigint()
  const sealed = records.map((r) => sealAuditRecord(provider, platformRandom, epochKey, context, r))
  const sealSeconds = seconds(start)
  parents = [org.op.id]
  const bytes: Uint8Array[] = []
  start = process.hrtime.bigint()
  for (let i = 0; i < SAMPLE; i++) {
    const op = createOp(provider, founderKey, { org: orgId, seq: 2 + i, parents, type: 'audit.event', body: { epoch: epochId, sealed: sealed[i]! }, time: genesisTime + i * 1000 })
    parents = [op.id]
    bytes.push(op.bytes)
  }
  const createSeconds = seconds(start)
  say(`\n1. Create + sign: ${SAMPLE.toLocaleString('en-US')} audit.event ops (C-STORE, WADO, QIDO, C-MOVE records), one author, parents = previous op`)
  say(`   seal audit record (epoch key)   ${perOp(SAMPLE, sealSeconds)}  ${rate(SAMPLE, sealSeconds)}`)
  say(`   createOp (sign, self-check)     ${perOp(SAMPLE, createSeconds)}  ${rate(SAMPLE, createSeconds)}   Ed25519 sign (provider) + decodeOp self-check`)
  say(`   seal + createOp                 ${perOp(SAMPLE, sealSeconds + createSeconds)}  ${rate(SAMPLE, sealSeconds + createSeconds)}`)
  results.create = { ops: SAMPLE, sealPerSecond: SAMPLE / sealSeconds, createOpPerSecond: SAMPLE / createSeconds, sealAndCreatePerSecond: SAMPLE / (sealSeconds + createSeconds) }

  // ==== 2. Verify: decodeOp alone (validation step 1), native and noble ====
  gc()
  start = process.hrtime.bigint()
  for (const b of bytes) decodeOp(provider, b)
  const nativeSeconds = seconds(start)
  for (let i = 0; i < 20; i++) decodeOp(nobleProvider, bytes[i]!)
  start = process.hrtime.bigint()
  for (let i = 0; i < NOBLE; i++) decodeOp(nobleProvider, bytes[i]!)
  const nobleSeconds = seconds(start)
  // The floor: node:crypto's Ed25519 verify alone, of signatures over messages of the ops' size.
  const message = bytes[0]!.slice(0, bytes[0]!.length - 100)
  const signature = signBytes(founderKey.secretKey, message)
  for (let i = 0; i < 200; i++) provider.ed25519Verify(signature, message, founderKey.publicKey)
  start = process.hrtime.bigint()
  for (let i = 0; i < SAMPLE; i++) provider.ed25519Verify(signature, message, founderKey.publicKey)
  const rawSeconds = seconds(start)
  const nativeRate = SAMPLE / nativeSeconds
  const nobleRate = NOBLE / nobleSeconds
  say(`\n2. Verify: decodeOp (envelope, Ed25519, canonical payload, body) of those ops`)
  say(`   native (node:crypto)            ${perOp(SAMPLE, nativeSeconds)}  ${rate(SAMPLE, nativeSeconds)}   target ≥ ${TARGET_VERIFY.toLocaleString('en-US')}/s per core: ${mark(nativeRate >= TARGET_VERIFY)}`)
  say(`   Ed25519 verify alone, native    ${perOp(SAMPLE, rawSeconds)}  ${rate(SAMPLE, rawSeconds)}   the floor under decodeOp on this machine`)
  say(`   noble (pure, ${String(NOBLE).padEnd(5)} ops)          ${perOp(NOBLE, nobleSeconds)}  ${rate(NOBLE, nobleSeconds)}   ${(nativeRate / nobleRate).toFixed(0)}× slower; target: ${mark(nobleRate >= TARGET_VERIFY)}`)
  results.verify = {
    native: { ops: SAMPLE, perSecond: nativeRate, microsPerOp: nativeSeconds / SAMPLE * 1e6 },
    noble: { ops: NOBLE, perSecond: nobleRate, microsPerOp: nobleSeconds / NOBLE * 1e6 },
    ed25519VerifyNative: { perSecond: SAMPLE / rawSeconds, microsPerOp: rawSeconds / SAMPLE * 1e6 },
    target: { perSecondPerCore: TARGET_VERIFY, met: nativeRate >= TARGET_VERIFY }
  }
}

// ==== 3. Rebuild: a generated org log of OPS ops ====
interface Node { key: NodeKeyPair, nodeId: NodeId, seq: number, tip: Uint8Array[], epoch: { id: Uint8Array, key: Uint8Array }, work: Array<() => void>, studies: Study[] }

const log: Uint8Array[] = []
const typeCount = new Map<OpType, number>()
const typeBytes = new Map<OpType, number>()
const auditSealed: number[] = []
const auditOpBytes: number[] = []
const auditByKind = new Map<AuditKind, { ops: number, bytes: number, sealed: number }>(AUDIT_KINDS.map((k) => [k, { ops: 0, bytes: 0, sealed: 0 }]))
const instanceSealed: number[] = []
let instancesWritten = 0
let maxParents = 0
let merges = 0
let clock = genesisTime + 60_000

function newNode (key: NodeKeyPair): Node {
  return { key, nodeId: nodeIdFromPublicKey(key.publicKey), seq: 1, tip: [org.op.id], epoch: { id: org.op.id, key: org.epochKey }, work: [], studies: [] }
}
const founder = newNode(founderKey)
founder.seq = 2
const siteB = newNode(generateNodeKey(platformRandom))
const siteC = newNode(generateNodeKey(platformRandom))
const sites = [founder, siteB, siteC]
const WEIGHTS = [0.4, 0.35, 0.25]
const backupKey = generateNodeKey(platformRandom)
let heads: Uint8Array[] = [org.op.id]
let epoch = { id: org.op.id, key: org.epochKey }
const allStudies: Study[] = []

function write<T extends OpType> (node: Node, type: T, body: OpBodies[T]): SignedOp {
  const op = createOp(provider, node.key, { org: orgId, seq: node.seq++, parents: node.tip, type, body, time: clock += int(200, 4000) } as never) as unknown as SignedOp
  node.tip = [op.id]
  maxParents = Math.max(maxParents, op.parents.length)
  if (op.parents.length > 1) merges++
  log.push(op.bytes)
  typeCount.set(type, (typeCount.get(type) ?? 0) + 1)
  typeBytes.set(type, (typeBytes.get(type) ?? 0) + op.bytes.length)
  return op
}

/** Every node has seen everything: the next batch starts from these heads. */
function sync (): void {
  for (const n of sites) { n.tip = heads; n.epoch = epoch }
}

/** A membership op, written by `node` after a sync; everyone sees it before the next batch. */
function solo<T extends OpType> (node: Node, type: T, body: OpBodies[T]): SignedOp {
  sync()
  const op = write(node, type, body)
  heads = [op.id]
  sync()
  return op
}

function startEpoch (): void {
  const e = createEpoch(provider, platformRandom, { org: orgId, members: sites.map((n) => ({ member: n.key.publicKey })), recoveryPublicKey: recovery.publicKey })
  const op = solo(founder, 'epoch.start', e.body)
  epoch = { id: op.id, key: e.key }
  sync()
}

function audit (node: Node, kind: AuditKind, record: AuditRecord): void {
  const sealed = sealAuditRecord(provider, platformRandom, node.epoch.key, { org: orgId, author: node.key.publicKey }, record)
  const op = write(node, 'audit.event', { epoch: node.epoch.id, sealed })
  auditSealed.push(sealed.length)
  auditOpBytes.push(op.bytes.length)
  const k = auditByKind.get(kind)!
  k.ops++; k.bytes += op.bytes.length; k.sealed += sealed.length
}

/** The ops one scenario on `node` writes, queued: an ingest (register, instances, C-STORE audit) or one read audit. */
function plan (node: Node): void {
  if (allStudies.length === 0 || rnd() < 0.0105) {
    const s = newStudy()
    node.work.push(() => {
      const wrappedKey = secretboxSeal(provider, platformRandom, node.epoch.key, s.dataKey, utf8Encode(`study-key ${s.id}`))
      const sealed = secretboxSeal(provider, platformRandom, s.recordKey, encodeStudyAttributes(studyAttributes(s)), utf8Encode(`study ${s.id}`))
      write(node, 'study.register', { study: s.id, epoch: node.epoch.id, wrappedKey, sealed })
    })
    const attributes = studyAttributes(s)
    // One study.instances op per study (and per 1000 instances), as the ingest's batcher writes them.
    for (let from = 0; from < s.instances; from += MAX_BATCH_INSTANCES) {
      node.work.push(() => {
        const listed: InstanceAttributes[] = []
        const blobs = []
        for (let i = from; i < Math.min(s.instances, from + MAX_BATCH_INSTANCES); i++) {
          const size = int(s.profile.size[0], s.profile.size[1])
          const blockHashes = platformRandom(blockCount(size, BLOCK_SIZE) * 32)
          const blob = { id: blobIdOf(provider, size, BLOCK_SIZE, blockHashes), size, blockSize: BLOCK_SIZE, blockHashes }
          blobs.push(blob)
          listed.push({
            ...attributes, transferSyntaxUid: '1.2.840.10008.1.2.1', sopClassUid: s.profile.sop, sopInstanceUid: uid(), seriesInstanceUid: s.series[i % s.series.length]!,
            modality: s.profile.modality, seriesNumber: 1 + (i % s.series.length), seriesDescription: s.profile.desc, bodyPartExamined: s.profile.body,
            instanceNumber: i + 1, rows: s.profile.rows, columns: s.profile.rows, size: size - 40, sha256: platformRandom(32), blob: blob.id
          } as InstanceAttributes)
        }
        const sealed = sealInstanceList(provider, platformRandom, s.recordKey, orgId, s.id, listed)
        instanceSealed.push(sealed.length / listed.length)
        instancesWritten += listed.length
        write(node, 'study.instances', { study: s.id, blobs, sealed })
      })
    }
    node.work.push(() => {
      audit(node, 'C-STORE received', cStoreEvent(node, s, clock))
      allStudies.push(s)
      node.studies.push(s)
    })
    return
  }
  node.work.push(() => {
    // Reads favour recent studies (a worklist), with a long tail.
    const s = rnd() < 0.7 ? allStudies[Math.max(0, allStudies.length - 1 - int(0, 20))]! : pick(allStudies)
    const { kind, record } = readEvent(node, s, clock)
    audit(node, kind, record)
  })
}

function membershipEvent (i: number): void {
  const kind = ['epoch', 'addr', 'spec-add', 'addr', 'spec-level', 'spec-remove'][i % 6]!
  const specialistStudy = allStudies[0]
  if (kind === 'epoch') { startEpoch(); return }
  if (kind === 'addr' || specialistStudy === undefined) {
    const n = pick([siteB, siteC])
    solo(n, 'member.addresses', { addresses: [`/ip4/10.20.0.${int(10, 99)}/tcp/${int(4001, 4099)}`, `/dns4/pacs-${n.nodeId.slice(0, 6)}.example.org/tcp/4001`] })
    return
  }
  // A specialist is given one study (read, then write) and later taken off it.
  if (kind === 'spec-add') {
    specialist = { key: generateNodeKey(platformRandom), study: pick(allStudies).id }
    solo(founder, 'member.add', { member: specialist.key.publicKey, role: 'specialist', level: 'read', scope: specialist.study })
  } else if (kind === 'spec-level' && specialist !== undefined) {
    solo(founder, 'member.set-level', { member: specialist.key.publicKey, level: 'write', scope: specialist.study })
  } else if (kind === 'spec-remove' && specialist !== undefined) {
    solo(founder, 'member.remove', { member: specialist.key.publicKey, scope: specialist.study })
    specialist = undefined
  }
}
let specialist: { key: NodeKeyPair, study: StudyId } | undefined

say(`\n3. Rebuild: generating an org log of ${OPS.toLocaleString('en-US')} ops (3 site nodes, a backup, membership and epoch changes) ...`)
gc()
let start = process.hrtime.bigint()
solo(founder, 'member.add', { member: siteB.key.publicKey, role: 'site', level: 'write', scope: 'org' })
solo(founder, 'member.add', { member: siteC.key.publicKey, role: 'site', level: 'write', scope: 'org' })
solo(founder, 'member.add', { member: backupKey.publicKey, role: 'backup', level: 'relay', scope: 'org' })
startEpoch()
for (const n of sites) solo(n, 'member.addresses', { addresses: [`/ip4/10.20.0.${int(10, 99)}/tcp/4001`] })
const MEMBERSHIP_EVENTS = 30
const every = Math.max(64, Math.floor(OPS / (MEMBERSHIP_EVENTS + 1)))
let nextMembership = log.length + every
let membershipDone = 0
while (log.length < OPS) {
  // One batch: each node writes on the heads of the last sync, concurrently; then they merge.
  const batch = Math.min(int(1, 48), OPS - log.length)
  const wrote = new Set<Node>()
  for (let i = 0; i < batch; i++) {
    let r = rnd()
    const node = sites[WEIGHTS.findIndex((w) => (r -= w) < 0)] ?? founder
    if (node.work.length === 0) plan(node)
    node.work.shift()!()
    wrote.add(node)
  }
  if (wrote.size > 0) heads = [...wrote].map((n) => n.tip[0]!)
  sync()
  if (log.length >= nextMembership && membershipDone < MEMBERSHIP_EVENTS && log.length < OPS) {
    membershipEvent(membershipDone++)
    nextMembership += every
  }
}
const generateSeconds = seconds(start)
const logBytes = log.reduce((a, b) => a + b.length, 0)
const membershipOps = [...typeCount].filter(([t]) => t.startsWith('member.') || t === 'epoch.start').reduce((a, [, n]) => a + n, 0)
say(`   generated in ${generateSeconds.toFixed(1)} s (${rate(log.length, generateSeconds).trim()}: sign + self-check + sealing), ${(logBytes / MB).toFixed(1)} MB of op bytes`)
const mix = [...typeCount].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}${n >= log.length / 100 ? ` (${(n / log.length * 100).toFixed(1)}%)` : ''}`)
say(`   mix: ${mix.join(', ')}`)
say(`   ${membershipOps} membership/epoch ops, ${allStudies.length} studies, ${merges.toLocaleString('en-US')} merge ops (up to ${maxParents} parents)`)

// The node at open, in a fresh process (so its peak RSS is the rebuild's own): the genesis bytes,
// then every journalled op's bytes, decoded, verified, applied; then replay() alone.
const dir = await mkdtemp(join(tmpdir(), 'peerpacs-bench-log-'))
let rebuilt: Rebuild
try {
  const file = join(dir, 'ops.bin')
  await writeFile(file, frame([genesisBytes, ...log]))
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--rebuild-from', file], { encoding: 'utf8', maxBuffer: 16 << 20 })
  if (child.status !== 0) throw new Error(`the rebuild process failed (${child.status}): ${child.stderr.slice(-2000)}`)
  rebuilt = JSON.parse(child.stdout.trim().split('\n').pop()!) as Rebuild
} finally {
  await rm(dir, { recursive: true, force: true })
}
const openSeconds = rebuilt.openSeconds
const targetSeconds = TARGET_REBUILD_S * log.length / 100_000
const rebuildMet = openSeconds < targetSeconds
const statuses = Object.entries(rebuilt.statuses).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')
say(`   open: new OpLog + addMany      ${openSeconds.toFixed(2).padStart(6)} s  ${rate(log.length, openSeconds)}   target < ${targetSeconds.toFixed(targetSeconds < 10 ? 1 : 0)} s${log.length === 100_000 ? '' : ` (${TARGET_REBUILD_S} s per 100k, scaled)`}: ${mark(rebuildMet)}`)
say(`     of which decodeOp alone      ${rebuilt.decodeSeconds.toFixed(2).padStart(6)} s  ${rate(log.length, rebuilt.decodeSeconds)}   (measured apart, same bytes)`)
say(`   replay() (recompute only)      ${rebuilt.replaySeconds.toFixed(2).padStart(6)} s  ${rate(log.length, rebuilt.replaySeconds)}`)
say(`   verdicts: ${statuses}; ${rebuilt.studies} studies, ${rebuilt.auditEvents.toLocaleString('en-US')} audit events in the state; replay digest = open digest: ${rebuilt.digestsEqual ? 'yes' : 'NO'}`)
say(`   peak RSS of the rebuild process ${(rebuilt.peakRss / MB).toFixed(0)} MB (${(rebuilt.rssAtStart / MB).toFixed(0)} MB after loading ${(logBytes / MB).toFixed(0)} MB of op bytes; ` +
  `heap ${(rebuilt.heapAfterOpen / MB).toFixed(0)} MB after open)`)
results.rebuild = {
  ops: log.length, logMB: logBytes / MB, generateSeconds, types: Object.fromEntries(typeCount), studies: allStudies.length, merges, maxParents, membershipOps,
  open: { seconds: openSeconds, perSecond: log.length / openSeconds }, decodeOnly: { seconds: rebuilt.decodeSeconds, perSecond: log.length / rebuilt.decodeSeconds },
  replay: { seconds: rebuilt.replaySeconds, perSecond: log.length / rebuilt.replaySeconds },
  statuses: rebuilt.statuses, digestsEqual: rebuilt.digestsEqual, peakRssMB: rebuilt.peakRss / MB, rssAtStartMB: rebuilt.rssAtStart / MB, heapAfterOpenMB: rebuilt.heapAfterOpen / MB,
  target: { seconds: targetSeconds, met: rebuildMet }
}

// ==== 4. Bytes of the log per audit event and per instance ====
const meanOp = (t: OpType): number => (typeBytes.get(t) ?? 0) / Math.max(1, typeCount.get(t) ?? 0)
say(`\n4. Log bytes (op bytes as journalled and synced; the op id and index entries are extra)`)
say(`   audit.event op        mean ${meanOp('audit.event').toFixed(0).padStart(5)} B   sealed record inside ${mean(auditSealed).toFixed(0).padStart(5)} B   (min ${Math.min(...auditOpBytes)}, max ${Math.max(...auditOpBytes)})`)
for (const [kind, k] of auditByKind) if (k.ops > 0) say(`     ${kind.padEnd(18)}  mean ${(k.bytes / k.ops).toFixed(0).padStart(5)} B   sealed ${(k.sealed / k.ops).toFixed(0).padStart(5)} B   ${(k.ops / auditOpBytes.length * 100).toFixed(0).padStart(3)}% of audit ops`)
say(`   study.instances op    mean ${meanOp('study.instances').toFixed(0).padStart(5)} B   ${((typeBytes.get('study.instances') ?? 0) / Math.max(1, instancesWritten)).toFixed(0).padStart(4)} B per instance   sealed ${mean(instanceSealed).toFixed(0).padStart(4)} B per instance   (+32 B per MiB of blob for block hashes)`)
say(`   study.register op     mean ${meanOp('study.register').toFixed(0).padStart(5)} B`)
say(`   whole log             mean ${(logBytes / log.length).toFixed(0).padStart(5)} B per op, ${(logBytes / MB).toFixed(1)} MB for ${log.length.toLocaleString('en-US')} ops`)
results.bytes = {
  auditEventOp: meanOp('audit.event'), auditSealedRecord: mean(auditSealed),
  auditByKind: Object.fromEntries([...auditByKind].filter(([, k]) => k.ops > 0).map(([kind, k]) => [kind, { ops: k.ops, opBytes: k.bytes / k.ops, sealedBytes: k.sealed / k.ops }])),
  studyInstancesOp: meanOp('study.instances'), bytesPerInstance: (typeBytes.get('study.instances') ?? 0) / Math.max(1, instancesWritten), instanceSealed: mean(instanceSealed), studyRegisterOp: meanOp('study.register'), meanOp: logBytes / log.length
}
if (values.json === true) console.log(JSON.stringify(results))

/**
 * An open data dir: the index, the blob store and (unless opened keyless) the unlocked keys,
 * plus access to each study's keys and sealed records. Opening checks the keys before it
 * touches anything, so a wrong passphrase changes nothing; it holds the data dir exclusively
 * until closed.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import { isStudyId, newStudyId, type StudyId } from '../../protocol/study-id.ts'
import { KeyFileError } from '../keys/errors.ts'
import { unlockKeyring, type Keyring } from '../keys/keyring.ts'
import type { BlobStore } from '../store/blob-store.ts'
import { FsBlobStore } from '../store/blob-store-fs.ts'
import { clearHolder, DataDirError, dataDirLayout, readDataDirMeta, readHolder, writeHolder, type DataDirLayout, type DataDirMeta } from '../store/data-dir.ts'
import { GroupCommitKvStore } from '../store/kv-group-commit.ts'
import { LevelKvStore, StoreLockedError, StoreMissingError } from '../store/kv-level.ts'
import type { KvKey, KvOperation, KvStore } from '../store/kv.ts'
import { isValidUid } from '../dicom/uid.ts'
import { IndexDamagedError, KeysNotLoadedError, StudyNotFoundError } from './errors.ts'
import {
  decodeStudyAttributes, decodeStudyRecord, encodeStudyAttributes, encodeStudyRecord, keys, type StudyAttributes
} from './index-layout.ts'
import { lookupOf, recordAad, recordKeyOf, studyKeyAad, studyManifestAad, unwrapStudyKey, wrapStudyKey } from './study-keys.ts'
import { fromHex, toHex } from '../../protocol/encoding.ts'
import type { StudyRegisterBody } from '../../protocol/log/index.ts'
import { NodeLog } from '../log/node-log.ts'
import { openSeqMark } from '../log/seq-mark.ts'
import { Auditor } from '../audit/auditor.ts'
import type { AuditPort } from '../audit/audit-port.ts'
import { auditWriter } from '../audit/audit-trail.ts'
import { createLogger, type Logger } from '../logging/logger.ts'
import { InstanceBatcher, type InstanceBatcherOptions } from './instance-batcher.ts'

export interface StudyContext {
  readonly studyId: StudyId
  readonly epoch: string
  readonly dataKey: Uint8Array
  readonly recordKey: Uint8Array
  readonly attributes: StudyAttributes
  /** Index writes that create the study, until a batch carrying them has been committed. */
  pendingCreation: KvOperation[] | undefined
  /** The study's `study.register` op body, until the first instance's batch takes it. */
  pendingRegistration?: StudyRegisterBody | undefined
}

export interface OpenArchiveOptions {
  /** 'none' opens without keys: only keyless work (fsck --keyless) is possible. */
  keys: 'required' | 'none'
  passphrase: string | undefined
  provider: CryptoProvider
  random: RandomSource
  /** Names the holder in holder.json, so a second process can say who has the data dir. */
  command: string
  /** How instances are batched into study.instances ops (tests shorten or lengthen it). */
  unlogged?: InstanceBatcherOptions
}

/** What an archive is made of; Archive.open assembles it from a data dir, tests from memory stores. */
export interface ArchiveParts {
  readonly layout: DataDirLayout
  readonly meta: DataDirMeta
  readonly keyring: Keyring | undefined
  readonly kv: KvStore
  readonly blobs: BlobStore
  readonly provider: CryptoProvider
  readonly random: RandomSource
  /** Releases whatever holds the data dir, after the stores are closed. */
  readonly release?: () => Promise<void>
  readonly unlogged?: InstanceBatcherOptions
}

export class Archive {
  readonly layout: DataDirLayout
  readonly meta: DataDirMeta
  readonly kv: KvStore
  readonly blobs: BlobStore
  readonly provider: CryptoProvider
  readonly random: RandomSource
  readonly #keyring: Keyring | undefined
  readonly #release: (() => Promise<void>) | undefined
  readonly #studies = new Map<StudyId, StudyContext>()
  readonly #creating = new Map<string, Promise<StudyContext>>()
  readonly #instanceLocks = new Map<string, Promise<void>>()
  #log: Promise<NodeLog> | undefined
  #auditor: Auditor | undefined
  #logger: Logger = createLogger({ level: 'warn' })
  #unlogged: InstanceBatcher | undefined
  readonly #unloggedOptions: InstanceBatcherOptions | undefined

  constructor (parts: ArchiveParts) {
    this.layout = parts.layout
    this.meta = parts.meta
    this.#keyring = parts.keyring
    this.kv = parts.kv
    this.blobs = parts.blobs
    this.provider = parts.provider
    this.random = parts.random
    this.#release = parts.release
    this.#unloggedOptions = parts.unlogged
  }

  static async open (root: string, options: OpenArchiveOptions): Promise<Archive> {
    const layout = dataDirLayout(root)
    const meta = await readDataDirMeta(layout)
    // Keys first: every failure here happens before anything in the data dir is opened for writing.
    const keyring = options.keys === 'required' ? await unlockKeyring(layout.keysDir, options.passphrase, options.provider) : undefined
    if (keyring !== undefined && (keyring.nodeId !== meta.nodeId || keyring.orgId !== meta.orgId)) {
      throw new KeyFileError(`the keys in ${layout.keysDir} belong to node ${keyring.nodeId}, but ${layout.metaFile} names node ${meta.nodeId}`)
    }
    let level: LevelKvStore
    try {
      level = await LevelKvStore.open(layout.indexDir)
    } catch (error) {
      if (error instanceof StoreMissingError) {
        throw new DataDirError('DATA_DIR_FORMAT', `the index of ${layout.root} (${layout.indexDir}) is missing: the data dir is incomplete`,
          'restore the whole data dir from its backup; do not run `fsck --repair` on it, and do not import into it')
      }
      if (!(error instanceof StoreLockedError)) throw error
      const holder = await readHolder(layout)
      const who = holder === undefined ? 'another process' : `another peerpacs process (pid ${holder.pid}, \`peerpacs ${holder.command}\`, since ${holder.since})`
      throw new DataDirError('DATA_DIR_BUSY', `data dir ${layout.root} is in use by ${who}`, 'wait for it to finish, or stop it, then try again')
    }
    const kv = new GroupCommitKvStore(level)
    try {
      const owner = await kv.get(keys.owner)
      if (owner === undefined || utf8Decode(owner) !== meta.nodeId) {
        throw new DataDirError('DATA_DIR_FORMAT', `the index in ${layout.indexDir} does not belong to this data dir (node ${meta.nodeId}): it was replaced or comes from elsewhere`,
          'restore the whole data dir from its backup; do not run `fsck --repair` on it, and do not import into it')
      }
      await writeHolder(layout, options.command)
      const blobs = await FsBlobStore.open(layout.blobsDir, options.provider, layout.quarantineDir)
      const archive = new Archive({ layout, meta, keyring, kv, blobs, provider: options.provider, random: options.random, ...(options.unlogged === undefined ? {} : { unlogged: options.unlogged }) })
      // The log loads (and every op is verified) at open, so a damaged log stops the open, not a later write.
      if (keyring !== undefined) {
        await archive.log()
        // Instances stored before a crash whose op was not written yet: written now.
        await archive.unlogged.flushAll().catch((error: unknown) => {
          archive.#logger.warn('log.instances.deferred', { error: error instanceof Error ? error.message : String(error) })
        })
      }
      return archive
    } catch (error) {
      await kv.close()
      throw error
    }
  }

  async close (): Promise<void> {
    await this.#unlogged?.flushAll().catch((error: unknown) => {
      this.#logger.warn('log.instances.deferred', { error: error instanceof Error ? error.message : String(error) })
    })
    await this.#auditor?.flush()
    // A raise of the log's high-water mark may still be writing log-mark.json into the data dir.
    await (await this.#log?.catch(() => undefined))?.settle()
    // holder.json is cleared while the lock is still held, so it never erases the next holder's.
    if (this.#release === undefined) await clearHolder(this.layout)
    else await this.#release()
    await this.blobs.close?.()
    await this.kv.close()
  }

  get keyring (): Keyring {
    if (this.#keyring === undefined) throw new KeysNotLoadedError('this needs the node\'s keys, but the data dir was opened without them')
    return this.#keyring
  }

  get hasKeys (): boolean { return this.#keyring !== undefined }

  /** Where the archive reports problems that do not fail the caller (a failed audit write). */
  set logger (logger: Logger) { this.#logger = logger }

  /** Writes audit records into the log as this node (needs the keys). */
  get auditor (): Auditor {
    this.#auditor ??= new Auditor(auditWriter(this), this.#logger)
    return this.#auditor
  }

  /** Writes the study.instances ops of the instances ingest stored (instance-batcher.ts). */
  get unlogged (): InstanceBatcher {
    this.#unlogged ??= new InstanceBatcher(this, () => this.#logger, this.#unloggedOptions)
    return this.#unlogged
  }

  /** The narrow port the edges write the audit trail through (audit/audit-port.ts). */
  get audit (): AuditPort {
    const auditor = this.auditor
    return { nodeId: this.keyring.nodeId, emit: (record) => { auditor.emit(record) } }
  }

  /** The org's signed log as this node holds it (loaded once; needs the node's keys to write). */
  async log (): Promise<NodeLog> {
    this.#log ??= this.#openLog()
    return await this.#log
  }

  async #openLog (): Promise<NodeLog> {
    const keyring = this.keyring
    const log = await NodeLog.open(this.kv, this.provider, keyring.org.genesisBytes, keyring.nodeKey, { mark: await openSeqMark(this.layout.root, toHex(keyring.nodeKey.publicKey)) })
    keyring.learnEpochs(log.oplog.state)
    return log
  }

  /**
   * Holds one SOPInstanceUID (by its lookup) for the caller: a second ingest of the same instance
   * (from any edge, at the same time) waits here, then finds the first one stored. Returns the release.
   */
  async lockInstance (sopLookup: string): Promise<() => void> {
    for (let busy = this.#instanceLocks.get(sopLookup); busy !== undefined; busy = this.#instanceLocks.get(sopLookup)) await busy
    let release!: () => void
    this.#instanceLocks.set(sopLookup, new Promise<void>((resolve) => { release = resolve }))
    return () => { this.#instanceLocks.delete(sopLookup); release() }
  }

  lookup (kind: 'study' | 'sop', uid: string): string {
    return lookupOf(this.keyring.lookupKey, kind, uid)
  }

  sealRecord (study: StudyContext, key: KvKey, plaintext: Uint8Array): Uint8Array {
    return secretboxSeal(this.provider, this.random, study.recordKey, plaintext, recordAad(this.keyring.orgId, key))
  }

  openRecord (study: StudyContext, key: KvKey, sealed: Uint8Array): Uint8Array {
    return secretboxOpen(this.provider, study.recordKey, sealed, recordAad(this.keyring.orgId, key))
  }

  /** Opens a stored study's keys and attributes. Throws StudyNotFoundError or an authentication error. */
  async study (studyId: StudyId): Promise<StudyContext> {
    const cached = this.#studies.get(studyId)
    if (cached !== undefined) return cached
    const bytes = await this.kv.get(keys.study(studyId))
    if (bytes === undefined) throw new StudyNotFoundError(`no study with id ${studyId}`)
    const keyring = this.keyring
    let context: StudyContext
    try {
      const record = decodeStudyRecord(bytes)
      const dataKey = unwrapStudyKey(this.provider, keyring.epochKey(record.epoch), record.wrappedKey, studyKeyAad(keyring.orgId, studyId, record.epoch))
      const recordKey = recordKeyOf(dataKey)
      const partial: StudyContext = { studyId, epoch: record.epoch, dataKey, recordKey, attributes: { studyInstanceUid: '' }, pendingCreation: undefined }
      const attributes = decodeStudyAttributes(this.openRecord(partial, keys.study(studyId), record.sealedAttributes))
      context = { ...partial, attributes }
    } catch (cause) {
      if (!(cause instanceof PeerpacsError) || cause instanceof KeysNotLoadedError) throw cause
      throw new IndexDamagedError(`the record of study ${studyId} does not open: ${cause.message}`, { cause })
    }
    this.#studies.set(studyId, context)
    return context
  }

  async findStudyId (studyInstanceUid: string): Promise<StudyId | undefined> {
    const bytes = await this.kv.get(keys.studyUid(this.lookup('study', studyInstanceUid)))
    return bytes === undefined ? undefined : utf8Decode(bytes) as StudyId
  }

  /** Finds a study by StudyInstanceUID or by its opaque id, as a user would type either. */
  async resolveStudy (reference: string): Promise<StudyContext> {
    if (isStudyId(reference) && await this.kv.get(keys.study(reference)) !== undefined) return await this.study(reference)
    if (!isValidUid(reference)) {
      throw new StudyNotFoundError(`"${reference.slice(0, 80)}" is neither a StudyInstanceUID nor a study id`, 'list studies with `peerpacs studies`')
    }
    const id = await this.findStudyId(reference)
    if (id === undefined) throw new StudyNotFoundError(`no study with StudyInstanceUID ${reference}`, 'list studies with `peerpacs studies`')
    return await this.study(id)
  }

  /**
   * The study an arriving instance belongs to, created (in memory) when new. Its creation is
   * written with the first instance that commits, so a study never exists without an instance.
   */
  async studyFor (attributes: StudyAttributes): Promise<StudyContext> {
    const lookup = this.lookup('study', attributes.studyInstanceUid)
    let pending = this.#creating.get(lookup)
    if (pending === undefined) {
      pending = this.#studyFor(lookup, attributes)
      this.#creating.set(lookup, pending)
      pending.catch(() => this.#creating.delete(lookup))
    }
    return await pending
  }

  async #studyFor (lookup: string, attributes: StudyAttributes): Promise<StudyContext> {
    const existing = await this.kv.get(keys.studyUid(lookup))
    if (existing !== undefined) return await this.study(utf8Decode(existing) as StudyId)
    await this.log()
    const keyring = this.keyring
    const studyId = newStudyId(this.random)
    const epoch = keyring.currentEpoch
    const dataKey = this.random(32)
    const context: StudyContext = { studyId, epoch, dataKey, recordKey: recordKeyOf(dataKey), attributes, pendingCreation: undefined }
    const wrappedKey = wrapStudyKey(this.provider, this.random, keyring.epochKey(epoch), dataKey, studyKeyAad(keyring.orgId, studyId, epoch))
    const encoded = encodeStudyAttributes(attributes)
    const record = encodeStudyRecord({ epoch, wrappedKey, sealedAttributes: this.sealRecord(context, keys.study(studyId), encoded) })
    context.pendingRegistration = {
      study: studyId,
      epoch: fromHex(epoch),
      wrappedKey,
      sealed: secretboxSeal(this.provider, this.random, context.recordKey, encoded, studyManifestAad(keyring.orgId, studyId))
    }
    context.pendingCreation = [
      { type: 'put', key: keys.study(studyId), value: record },
      { type: 'put', key: keys.studyUid(lookup), value: utf8Encode(studyId) }
    ]
    this.#studies.set(studyId, context)
    return context
  }
}

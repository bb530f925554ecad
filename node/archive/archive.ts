/**
 * An open data dir: the index, the blob store and (unless opened keyless) the unlocked keys,
 * plus access to each study's keys and sealed records. Opening checks the keys before it
 * touches anything, so a wrong passphrase changes nothing; it holds the data dir exclusively
 * until closed.
 */
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { secretboxOpen, secretboxSeal } from '../../protocol/secretbox.ts'
import { isStudyId, newStudyId, type StudyId } from '../../protocol/study-id.ts'
import { KeyFileError } from '../keys/errors.ts'
import { unlockKeyring, type Keyring } from '../keys/keyring.ts'
import { FsBlobStore } from '../store/blob-store-fs.ts'
import { clearHolder, DataDirError, dataDirLayout, readDataDirMeta, readHolder, writeHolder, type DataDirLayout, type DataDirMeta } from '../store/data-dir.ts'
import { GroupCommitKvStore } from '../store/kv-group-commit.ts'
import { LevelKvStore, StoreLockedError } from '../store/kv-level.ts'
import type { KvKey, KvOperation, KvStore } from '../store/kv.ts'
import { isValidUid } from '../dicom/uid.ts'
import { KeysNotLoadedError, StudyNotFoundError } from './errors.ts'
import {
  decodeStudyAttributes, decodeStudyRecord, encodeStudyAttributes, encodeStudyRecord, keys, type StudyAttributes
} from './index-layout.ts'
import { lookupOf, recordAad, recordKeyOf, studyKeyAad, unwrapStudyKey, wrapStudyKey } from './study-keys.ts'

export interface StudyContext {
  readonly studyId: StudyId
  readonly epoch: number
  readonly dataKey: Uint8Array
  readonly recordKey: Uint8Array
  readonly attributes: StudyAttributes
  /** Index writes that create the study, until a batch carrying them has been committed. */
  pendingCreation: KvOperation[] | undefined
}

export interface OpenArchiveOptions {
  /** 'none' opens without keys: only keyless work (fsck --keyless) is possible. */
  keys: 'required' | 'none'
  passphrase: string | undefined
  provider: CryptoProvider
  random: RandomSource
  /** Names the holder in holder.json, so a second process can say who has the data dir. */
  command: string
}

export class Archive {
  readonly layout: DataDirLayout
  readonly meta: DataDirMeta
  readonly kv: KvStore
  readonly blobs: FsBlobStore
  readonly provider: CryptoProvider
  readonly random: RandomSource
  readonly #keyring: Keyring | undefined
  readonly #studies = new Map<StudyId, StudyContext>()
  readonly #creating = new Map<string, Promise<StudyContext>>()

  private constructor (layout: DataDirLayout, meta: DataDirMeta, keyring: Keyring | undefined, kv: KvStore, blobs: FsBlobStore, options: OpenArchiveOptions) {
    this.layout = layout
    this.meta = meta
    this.#keyring = keyring
    this.kv = kv
    this.blobs = blobs
    this.provider = options.provider
    this.random = options.random
  }

  static async open (root: string, options: OpenArchiveOptions): Promise<Archive> {
    const layout = dataDirLayout(root)
    const meta = await readDataDirMeta(layout)
    // Keys first: every failure here happens before anything in the data dir is opened for writing.
    const keyring = options.keys === 'required' ? await unlockKeyring(layout.keysDir, options.passphrase, options.provider) : undefined
    if (keyring !== undefined && (keyring.nodeId !== meta.nodeId || keyring.orgId !== meta.orgId)) {
      throw new KeyFileError(`the keys in ${layout.keysDir} belong to node ${keyring.nodeId}, but ${layout.metaFile} names node ${meta.nodeId}`)
    }
    let kv: KvStore
    try {
      kv = new GroupCommitKvStore(await LevelKvStore.open(layout.indexDir))
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error
      const holder = await readHolder(layout)
      const who = holder === undefined ? 'another process' : `another peerpacs process (pid ${holder.pid}, \`peerpacs ${holder.command}\`, since ${holder.since})`
      throw new DataDirError('DATA_DIR_BUSY', `data dir ${layout.root} is in use by ${who}`, 'wait for it to finish, or stop it, then try again')
    }
    try {
      await writeHolder(layout, options.command)
      const blobs = await FsBlobStore.open(layout.blobsDir, options.provider)
      return new Archive(layout, meta, keyring, kv, blobs, options)
    } catch (error) {
      await kv.close()
      throw error
    }
  }

  async close (): Promise<void> {
    await this.kv.close()
    await clearHolder(this.layout)
  }

  get keyring (): Keyring {
    if (this.#keyring === undefined) throw new KeysNotLoadedError('this needs the node\'s keys, but the data dir was opened without them')
    return this.#keyring
  }

  get hasKeys (): boolean { return this.#keyring !== undefined }

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
    const record = decodeStudyRecord(bytes)
    const keyring = this.keyring
    const dataKey = unwrapStudyKey(this.provider, keyring.epochKey(record.epoch), record.wrappedKey, studyKeyAad(keyring.orgId, studyId, record.epoch))
    const recordKey = recordKeyOf(dataKey)
    const partial: StudyContext = { studyId, epoch: record.epoch, dataKey, recordKey, attributes: { studyInstanceUid: '' }, pendingCreation: undefined }
    const attributes = decodeStudyAttributes(this.openRecord(partial, keys.study(studyId), record.sealedAttributes))
    const context = { ...partial, attributes }
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
    const keyring = this.keyring
    const studyId = newStudyId(this.random)
    const epoch = keyring.currentEpoch
    const dataKey = this.random(32)
    const context: StudyContext = { studyId, epoch, dataKey, recordKey: recordKeyOf(dataKey), attributes, pendingCreation: undefined }
    const record = encodeStudyRecord({
      epoch,
      wrappedKey: wrapStudyKey(this.provider, this.random, keyring.epochKey(epoch), dataKey, studyKeyAad(keyring.orgId, studyId, epoch)),
      sealedAttributes: this.sealRecord(context, keys.study(studyId), encodeStudyAttributes(attributes))
    })
    context.pendingCreation = [
      { type: 'put', key: keys.study(studyId), value: record },
      { type: 'put', key: keys.studyUid(lookup), value: utf8Encode(studyId) }
    ]
    this.#studies.set(studyId, context)
    return context
  }
}

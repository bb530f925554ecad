/**
 * One study's case document: what people edit together about it (notes, labels, a report
 * draft), as a Y.Doc whose clientID is the one bound to this node's member key (client-id.ts).
 *
 * Changes leave only through `localChange`, which returns the Yjs update to seal and send as a
 * `case.update` op; changes arrive only through `applyRemote`, which checks an update against
 * its signer (check.ts) before applying it, so a refused update leaves the document unchanged.
 * Yjs never decides who may write: the op log has already checked the signer's level.
 *
 * Rules for the owner: rebuild a document (replaying its `case.update` ops, this node's own
 * included, or from this node's own `snapshot()`) before making local changes, or new changes
 * would reuse clocks this member already used; and never run one member key on two writers.
 *
 * The schema is checked when read, not when written (a writer can put any Yjs content in the
 * document): entries of the wrong shape are left out of what the read methods return, and a
 * note counts only if its `author` is the member whose client id inserted it.
 */
import * as Y from 'yjs'
import { describe, expectBytes, expectFunction, expectInteger, expectObject, expectString } from '../bytes.ts'
import { expectProvider, type CryptoProvider } from '../crypto-provider.ts'
import { toHex } from '../encoding.ts'
import { DecodeError, InvalidArgumentError } from '../errors.ts'
import type { StudyId } from '../study-id.ts'
import { admitCaseUpdate, CaseUpdateRejectedError, checkCaseUpdate, DEFAULT_CASE_UPDATE_LIMITS, expectLimits, type CaseUpdateLimits } from './check.ts'
import { caseClientId, expectStudy } from './client-id.ts'

/** Largest note, label value or single report insertion, in UTF-16 code units. */
export const MAX_CASE_TEXT = 64 * 1024
/** Largest label key. */
export const MAX_LABEL_KEY = 256

export type LabelValue = string | boolean

export interface CaseNote {
  /** Stable id of the note: "<client>:<clock>" of the Yjs item that holds it. */
  readonly id: string
  /** Ed25519 public key of the member who wrote it, lowercase hex. */
  readonly author: string
  /** Author's clock, ms since 1970 (informative). */
  readonly time: number
  readonly text: string
}

export interface CaseContent {
  readonly notes: CaseNote[]
  /** Sorted by key. */
  readonly labels: { [key: string]: LabelValue }
  readonly report: string
}

export interface CaseDocOptions {
  provider: CryptoProvider
  study: StudyId
  /** This node's Ed25519 public key: the member it writes as. */
  member: Uint8Array
  limits?: CaseUpdateLimits
}

/** What a `localChange` callback may do. Each method checks its arguments before changing anything. */
export interface CaseEdit {
  addNote (text: string, time: number): void
  /** Removes the note with this id; false when there is none. */
  removeNote (id: string): boolean
  setLabel (key: string, value: LabelValue): void
  deleteLabel (key: string): void
  insertReport (index: number, text: string): void
  deleteReport (index: number, length: number): void
}

export interface CaseChange {
  readonly local: boolean
  /** The signer of a remote update. */
  readonly signer?: Uint8Array
}

const NOTES = 'notes'
const LABELS = 'labels'
const REPORT = 'report'
const HEX64 = /^[0-9a-f]{64}$/
/** Outside the 32-bit range of bound ids (client-id.ts), so never the client of a struct. */
const SPARE_CLIENT_ID = 2 ** 32

function isPlainObject (value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

function expectText (value: unknown, name: string, max: number): string {
  expectString(value, name)
  if ((value as string).length > max) throw new InvalidArgumentError(`${name}: expected at most ${max} characters, got ${(value as string).length}`)
  return value as string
}

export class CaseDoc {
  readonly study: StudyId
  readonly member: Uint8Array
  readonly clientId: number
  readonly #provider: CryptoProvider
  readonly #limits: CaseUpdateLimits
  readonly #doc: Y.Doc
  readonly #notes: Y.Array<unknown>
  readonly #labels: Y.Map<unknown>
  readonly #report: Y.Text
  /** Origin of this node's own transactions. */
  readonly #local = { local: true } as const
  /** Local updates not yet handed out (a callback that threw part-way leaves its changes here). */
  #unsent: Uint8Array[] = []
  #listeners = new Set<(change: CaseChange) => void>()
  readonly #authorIds = new Map<string, number>()

  constructor (options: CaseDocOptions) {
    expectObject(options, 'CaseDoc(options)')
    this.#provider = expectProvider(options.provider, 'CaseDoc(options.provider)')
    this.study = expectStudy(options.study, 'CaseDoc(options.study)')
    this.member = expectBytes(options.member, 'CaseDoc(options.member)', 32).slice()
    this.#limits = expectLimits(options.limits ?? DEFAULT_CASE_UPDATE_LIMITS, 'CaseDoc(options.limits)')
    this.clientId = caseClientId(this.#provider, this.member, this.study)
    this.#doc = new Y.Doc({ gc: true })
    this.#doc.clientID = this.clientId
    this.#notes = this.#doc.getArray(NOTES)
    this.#labels = this.#doc.getMap(LABELS)
    this.#report = this.#doc.getText(REPORT)
    this.#doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this.#local) this.#unsent.push(update)
    })
  }

  /**
   * A document restored from this node's own `snapshot()` (trusted: it holds every member's
   * structs unchecked). Bytes that are not a Yjs update throw DecodeError.
   */
  static fromSnapshot (options: CaseDocOptions, snapshot: Uint8Array): CaseDoc {
    const doc = new CaseDoc(options)
    expectBytes(snapshot, 'CaseDoc.fromSnapshot(snapshot)')
    try {
      doc.#applyTrusted(snapshot, { snapshot: true })
    } catch (cause) {
      doc.destroy()
      throw new DecodeError(`case snapshot of ${snapshot.length} bytes does not apply as a Yjs update`, { cause })
    }
    return doc
  }

  /**
   * Checks `update` against `signer` (the Ed25519 key that signed its op) and applies it. Throws
   * CaseUpdateRejectedError, leaving the document unchanged, when the update is refused. The one
   * exception is reason 'apply-failed': Yjs threw after the checks passed (the checks exist so
   * that this cannot happen; fuzzing has not found a case), and the document may then hold part
   * of the update, so its owner should rebuild it from the log.
   */
  applyRemote (update: Uint8Array, signer: Uint8Array): void {
    expectBytes(update, 'applyRemote(update)')
    expectBytes(signer, 'applyRemote(signer)', 32)
    const admitted = admitCaseUpdate(update, caseClientId(this.#provider, signer, this.study), this.#limits)
    try {
      this.#applyTrusted(admitted, { signer: toHex(signer) })
    } catch (cause) {
      throw new CaseUpdateRejectedError('apply-failed', `case update passed its checks but Yjs could not apply it: ${cause instanceof Error ? cause.message : describe(cause)}`, { cause })
    }
    for (const listener of this.#listeners) listener({ local: false, signer: signer.slice() })
  }

  /**
   * Runs `fn` in one transaction and returns the Yjs update it produced (to seal and send), or
   * null when it changed nothing. `fn` is tried on a copy first (#probe): if it throws, or its
   * edit would delete another member's content, the document is left unchanged.
   */
  localChange (fn: (edit: CaseEdit) => void): Uint8Array | null {
    expectFunction(fn, 'localChange(fn)')
    this.#probe(fn)
    this.#doc.transact(() => { fn(this.#editor()) }, this.#local)
    const unsent = this.#unsent
    this.#unsent = []
    if (unsent.length === 0) return null
    for (const listener of this.#listeners) listener({ local: true })
    return unsent.length === 1 ? unsent[0]! : Y.mergeUpdates(unsent)
  }

  /**
   * Runs `fn` on a copy of the document first and checks the update it would send against the
   * rules every receiver applies (check.ts): an edit that deletes or overwrites another member's
   * content is refused (CaseUpdateRejectedError 'foreign-deletion') before this document changes.
   * So `fn` must only describe edits: it runs twice.
   */
  #probe (fn: (edit: CaseEdit) => void): void {
    const probe = CaseDoc.fromSnapshot({ provider: this.#provider, study: this.study, member: this.member, limits: this.#limits }, this.snapshot())
    try {
      let failed: { error: unknown } | undefined
      probe.#doc.transact(() => {
        try { fn(probe.#editor()) } catch (error) { failed = { error } }
      }, probe.#local)
      const updates = probe.#unsent
      if (updates.length > 0) checkCaseUpdate(updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates), this.clientId, this.#limits)
      if (failed !== undefined) throw failed.error
    } finally {
      probe.destroy()
    }
  }

  /** Calls `listener` after every applied local or remote change. Returns the unsubscribe function. */
  onChange (listener: (change: CaseChange) => void): () => void {
    expectFunction(listener, 'onChange(listener)')
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** The whole document as one Yjs update (compact: Yjs re-encodes its current state). */
  snapshot (): Uint8Array {
    return Y.encodeStateAsUpdate(this.#doc)
  }

  /** Yjs state vector (client → next clock), encoded; equal on replicas that hold the same updates. */
  stateVector (): Uint8Array {
    return Y.encodeStateVector(this.#doc)
  }

  notes (): CaseNote[] {
    const out: CaseNote[] = []
    for (let item = this.#notes._start; item !== null; item = item.right) {
      if (item.deleted || !item.countable || item.parentSub !== null) continue
      for (const [i, value] of item.content.getContent().entries()) {
        const note = this.#readNote(value, item.id.client, item.id.clock + i)
        if (note !== undefined) out.push(note)
      }
    }
    return out
  }

  labels (): { [key: string]: LabelValue } {
    const out: { [key: string]: LabelValue } = {}
    for (const key of [...this.#labels.keys()].sort()) {
      const value = this.#labels.get(key)
      if (typeof value === 'string' || typeof value === 'boolean') out[key] = value
    }
    return out
  }

  report (): string {
    return this.#report.toString()
  }

  /** Plain JSON of what the document says, for comparison and export. */
  content (): CaseContent {
    return { notes: this.notes(), labels: this.labels(), report: this.report() }
  }

  destroy (): void {
    this.#listeners.clear()
    this.#doc.destroy()
  }

  /**
   * Applies an update that has passed its checks or is trusted. Meanwhile the doc holds a client
   * id no struct can carry (ids are 32-bit): when an update advances the doc's own client (this
   * member's ops replayed from the log, a snapshot, or pending structs of its own that the update
   * completes), Yjs assumes another writer uses the id and picks a new random one.
   */
  #applyTrusted (update: Uint8Array, origin: object): void {
    this.#doc.clientID = SPARE_CLIENT_ID
    try {
      Y.applyUpdate(this.#doc, update, origin)
    } finally {
      this.#doc.clientID = this.clientId
    }
  }

  #readNote (value: unknown, client: number, clock: number): CaseNote | undefined {
    if (!isPlainObject(value)) return undefined
    const { author, time, text } = value
    if (typeof author !== 'string' || !HEX64.test(author) || typeof text !== 'string') return undefined
    if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) return undefined
    if (this.#authorClientId(author) !== client) return undefined
    return { id: `${client}:${clock}`, author, time, text }
  }

  #authorClientId (author: string): number {
    let id = this.#authorIds.get(author)
    if (id === undefined) {
      const key = new Uint8Array(32)
      for (let i = 0; i < 32; i++) key[i] = parseInt(author.slice(2 * i, 2 * i + 2), 16)
      id = caseClientId(this.#provider, key, this.study)
      if (this.#authorIds.size >= 1024) this.#authorIds.clear()
      this.#authorIds.set(author, id)
    }
    return id
  }

  #noteIndex (id: string): number {
    let index = 0
    for (let item = this.#notes._start; item !== null; item = item.right) {
      if (item.deleted || !item.countable || item.parentSub !== null) continue
      for (let i = 0; i < item.length; i++) {
        if (`${item.id.client}:${item.id.clock + i}` === id) return index
        index++
      }
    }
    return -1
  }

  #editor (): CaseEdit {
    const author = toHex(this.member)
    return {
      addNote: (text, time) => {
        expectText(text, 'addNote(text)', MAX_CASE_TEXT)
        expectInteger(time, 'addNote(time)')
        this.#notes.push([{ author, time, text }])
      },
      removeNote: (id) => {
        expectString(id, 'removeNote(id)')
        const index = this.#noteIndex(id)
        if (index < 0) return false
        this.#notes.delete(index, 1)
        return true
      },
      setLabel: (key, value) => {
        expectText(key, 'setLabel(key)', MAX_LABEL_KEY)
        if (typeof value === 'string') expectText(value, 'setLabel(value)', MAX_CASE_TEXT)
        else if (typeof value !== 'boolean') throw new InvalidArgumentError(`setLabel(value): expected string or boolean, got ${describe(value)}`)
        this.#labels.set(key, value)
      },
      deleteLabel: (key) => {
        expectText(key, 'deleteLabel(key)', MAX_LABEL_KEY)
        this.#labels.delete(key)
      },
      insertReport: (index, text) => {
        expectInteger(index, 'insertReport(index)', 0, this.#report.length)
        expectText(text, 'insertReport(text)', MAX_CASE_TEXT)
        this.#report.insert(index, text)
      },
      deleteReport: (index, length) => {
        expectInteger(index, 'deleteReport(index)', 0, this.#report.length)
        expectInteger(length, 'deleteReport(length)', 0, this.#report.length - index)
        this.#report.delete(index, length)
      }
    }
  }
}

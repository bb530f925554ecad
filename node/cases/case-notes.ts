/**
 * A node's view of its studies' case documents (protocol/case-doc): notes and measurements
 * people write in the viewer (case-entry.ts says how an entry sits in a note).
 *
 * Reading: a study's document is built from its applied `case.update` ops (OrgState.caseUpdates),
 * each opened with the study's data key (unwrapped from the log's study.register with this node's
 * epoch key) and applied with `applyRemote`, which checks its Yjs structs against the op's signer.
 * An update that does not open or is refused is skipped and logged (`case.update.skipped`); the
 * rest of the document still reads. The last MAX_HELD documents used are kept in memory (only new
 * ops are applied on the next read); an older one is rebuilt from the log when asked for again.
 *
 * Writing: one change at a time (a queue), made on the document rebuilt from the log (so its
 * clocks follow this node's earlier updates), sealed with the study key and written as this
 * node's signed `case.update` op. The checks the log would apply (the study registered, this site
 * holding write in it) are made first, so a refused op never reaches the node's log.
 */
import { CaseDoc, CaseUpdateRejectedError, openCaseUpdate, sealCaseUpdate } from '../../protocol/case-doc/index.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { toHex } from '../../protocol/encoding.ts'
import { levelOf } from '../../protocol/log/index.ts'
import { rank } from '../../protocol/log/levels.ts'
import type { RandomSource } from '../../protocol/random.ts'
import type { StudyId } from '../../protocol/study-id.ts'
import { studyKeyAad, unwrapStudyKey } from '../archive/study-keys.ts'
import { RequestError } from '../dicomweb/http-errors.ts'
import type { Keyring } from '../keys/keyring.ts'
import type { NodeLog } from '../log/node-log.ts'
import type { Logger } from '../logging/logger.ts'
import { decodeEntry, encodeEntry, type CaseEntry, type NewEntry } from './case-entry.ts'

export interface CaseNotesOptions {
  readonly provider: CryptoProvider
  readonly random: RandomSource
  readonly keyring: Keyring
  readonly log: NodeLog
  readonly logger: Logger
  readonly now?: () => number
}

/** The person writing: their account id and the name shown beside what they wrote. */
export interface Writer { readonly id: string, readonly displayName: string }

/** Case documents kept in memory, most recently used last. */
export const MAX_HELD = 64

interface Held { readonly doc: CaseDoc, readonly applied: Set<string>, readonly dataKey: Uint8Array }

export class CaseNotes {
  readonly #o: CaseNotesOptions
  readonly #held = new Map<StudyId, Held>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor (options: CaseNotesOptions) {
    this.#o = options
  }

  /** The study's entries in document order. Throws RequestError NOT_FOUND for a study the log does not hold. */
  entries (study: StudyId): CaseEntry[] {
    return this.#sync(study).doc.notes().map(decodeEntry)
  }

  /** Writes `entry` as this node's `case.update` op; returns it as read back. */
  async add (study: StudyId, writer: Writer, entry: NewEntry): Promise<CaseEntry> {
    return await this.#serial(async () => {
      const text = encodeEntry(entry, writer)
      const time = (this.#o.now ?? Date.now)()
      const held = await this.#change(study, (edit) => { edit.addNote(text, time) })
      const me = toHex(this.#o.keyring.nodeKey.publicKey)
      const note = held.doc.notes().findLast((n) => n.author === me && n.text === text && n.time === time)
      return decodeEntry(note!)
    })
  }

  /** Deletes an entry the writer wrote at this site: NOT_FOUND when there is none, FORBIDDEN when it is another's. */
  async remove (study: StudyId, writer: Writer, id: string): Promise<void> {
    await this.#serial(async () => {
      const entry = this.entries(study).find((e) => e.id === id)
      if (entry === undefined) throw new RequestError('NOT_FOUND', `the case of this study has no entry ${id.slice(0, 40)}`)
      if (entry.account !== writer.id) throw new RequestError('FORBIDDEN', 'only the person who wrote an entry may delete it')
      if (entry.site !== toHex(this.#o.keyring.nodeKey.publicKey)) throw new RequestError('FORBIDDEN', 'this entry was written at another site: delete it there (each site changes only what it wrote)')
      await this.#change(study, (edit) => { edit.removeNote(id) })
    })
  }

  close (): void {
    for (const held of this.#held.values()) held.doc.destroy()
    this.#held.clear()
  }

  async #serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return await run
  }

  async #change (study: StudyId, fn: Parameters<CaseDoc['localChange']>[0]): Promise<Held> {
    const held = this.#sync(study)
    const { log, keyring } = this.#o
    const state = log.oplog.state
    const level = levelOf(state, keyring.nodeId, study)
    if (rank(level) < rank('write')) throw new RequestError('FORBIDDEN', `this site holds ${level ?? 'no'} level in the study; writing its case needs write`)
    const update = held.doc.localChange(fn)
    if (update === null) return held
    try {
      const sealed = sealCaseUpdate(this.#o.provider, this.#o.random, held.dataKey, { org: keyring.orgId, study, author: keyring.nodeKey.publicKey }, update)
      const op = await log.append('case.update', { study, sealed })
      held.applied.add(op.idHex)
    } catch (error) {
      // The document holds a change the log does not: rebuild it at the next use.
      held.doc.destroy()
      this.#held.delete(study)
      throw error
    }
    return held
  }

  /** The study's document with every applied case.update op of the log in it. */
  #sync (study: StudyId): Held {
    const { log, keyring, provider, logger } = this.#o
    const state = log.oplog.state
    const registered = state.studies.get(study)
    if (registered === undefined) throw new RequestError('NOT_FOUND', 'no such study')
    let held = this.#held.get(study)
    if (held !== undefined) {
      this.#held.delete(study)
      this.#held.set(study, held)
    } else {
      for (const [old, gone] of this.#held) {
        if (this.#held.size < MAX_HELD) break
        gone.doc.destroy()
        this.#held.delete(old)
      }
      const dataKey = unwrapStudyKey(provider, keyring.epochKey(registered.epoch), registered.wrappedKey, studyKeyAad(keyring.orgId, study, registered.epoch))
      held = { doc: new CaseDoc({ provider, study, member: keyring.nodeKey.publicKey }), applied: new Set(), dataKey }
      this.#held.set(study, held)
    }
    for (const id of state.caseUpdates.get(study) ?? []) {
      if (held.applied.has(id)) continue
      held.applied.add(id)
      const op = log.oplog.get(id)
      if (op === undefined || op.type !== 'case.update') continue
      try {
        const update = openCaseUpdate(provider, held.dataKey, { org: keyring.orgId, study, author: op.author }, op.body.sealed)
        held.doc.applyRemote(update, op.author)
      } catch (error) {
        const reason = error instanceof CaseUpdateRejectedError ? error.reason : (error as { code?: string }).code ?? String(error)
        logger.warn('case.update.skipped', { study, op: id, author: op.authorId, reason, error: error instanceof Error ? error.message : String(error) })
        if (reason === 'apply-failed') { held.doc.destroy(); this.#held.delete(study); throw error }
      }
    }
    return held
  }
}

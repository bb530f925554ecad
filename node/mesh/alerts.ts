/**
 * Security alerts raised by the mesh (audit 110113, DICOM PS3.15 A.5.3.11): a peer refused at
 * the gater, a peer that broke a protocol or sent forged ops or bad blocks, a forked author, own
 * ops missing from this node's journal.
 * Each is logged; the audit op is rate-limited per peer and kind (a peer redialling every
 * second must not grow the log by an op a second).
 */
import { EVENT_TYPE, nodeSource, OUTCOME, securityAlertEvent } from '../../protocol/audit/index.ts'
import type { Archive } from '../archive/archive.ts'
import { networkUser, thisNode } from '../audit/actors.ts'
import type { Logger } from '../logging/logger.ts'

const WINDOW_MS = 10 * 60_000

/** 'journal': this node's journal lacks own ops it signed (deleted or lost; see own-seqs.ts). */
export type MeshAlertKind = 'refused' | 'violation' | 'fork' | 'journal'

export class MeshAlerts {
  readonly #archive: Archive
  readonly #log: Logger
  readonly #last = new Map<string, number>()

  constructor (archive: Archive, log: Logger) {
    this.#archive = archive
    this.#log = log
  }

  raise (kind: MeshAlertKind, peer: string, address: string | undefined, description: string): void {
    this.#log.warn(`mesh.${kind}`, { peer, address, reason: description })
    const key = `${kind}\u0000${peer}`
    const now = Date.now()
    if ((this.#last.get(key) ?? -Infinity) > now - WINDOW_MS) return
    this.#last.set(key, now)
    if (this.#last.size > 10_000) this.#last.clear()
    const archive = this.#archive
    let source
    try { source = nodeSource(archive.keyring.nodeId) } catch { return }
    archive.auditor.emit(securityAlertEvent({
      time: now,
      source,
      outcome: kind === 'refused' ? OUTCOME.minorFailure : OUTCOME.seriousFailure,
      outcomeDescription: description,
      // Node Authentication: every mesh alert is about what a node proved (or failed to) with its key.
      types: [EVENT_TYPE.nodeAuthentication],
      reporter: thisNode(archive.keyring.nodeId),
      performers: [networkUser(`node:${peer}`, address)],
      subjects: [{ kind: 'node', id: peer, description }]
    }))
  }
}

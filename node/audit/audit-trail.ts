/**
 * The audit trail in the log: writing a record as a sealed `audit.event` op of this node, and
 * reading the trail back (every node's audit ops, opened with the epoch keys this node holds).
 */
import { openAuditRecord, sealAuditRecord, type AuditRecord } from '../../protocol/audit/index.ts'
import { fromHex, toHex } from '../../protocol/encoding.ts'
import { PeerpacsError } from '../../protocol/errors.ts'
import type { SignedOpOf } from '../../protocol/log/index.ts'
import type { Archive } from '../archive/archive.ts'
import type { AuditWriter } from './auditor.ts'

export function auditWriter (archive: Archive): AuditWriter {
  return async (record) => {
    const log = await archive.log()
    const keyring = archive.keyring
    const epoch = keyring.currentEpoch
    const sealed = sealAuditRecord(archive.provider, archive.random, keyring.epochKey(epoch), { org: keyring.orgId, author: keyring.nodeKey.publicKey }, record)
    await log.append('audit.event', { epoch: fromHex(epoch), sealed })
  }
}

export interface AuditEntry {
  readonly opId: string
  readonly author: string
  readonly seq: number
  /** Undefined when this node holds no key for the record's epoch, or the box does not open. */
  readonly record?: AuditRecord
  readonly problem?: string
}

/**
 * Every applied audit op of the org, oldest first: by the time each record names, then in each
 * author's chain order (so the parts of one event, which share its time, read part 1, 2, …),
 * then op id.
 */
export async function readAuditTrail (archive: Archive): Promise<AuditEntry[]> {
  const log = await archive.log()
  const state = log.oplog.state
  const keyring = archive.keyring
  const out: AuditEntry[] = []
  for (const ids of state.audit.values()) {
    for (const id of ids) {
      const op = log.oplog.get(id) as SignedOpOf<'audit.event'> | undefined
      if (op === undefined) continue
      const base = { opId: op.idHex as string, author: op.authorId as string, seq: op.seq }
      try {
        const record = openAuditRecord(archive.provider, keyring.epochKey(toHex(op.body.epoch)), { org: keyring.orgId, author: op.author }, op.body.sealed)
        out.push({ ...base, record })
      } catch (error) {
        out.push({ ...base, problem: error instanceof PeerpacsError ? error.message : String(error) })
      }
    }
  }
  out.sort((a, b) => (a.record?.time ?? 0) - (b.record?.time ?? 0) || a.author.localeCompare(b.author) || a.seq - b.seq || a.opId.localeCompare(b.opId))
  return out
}

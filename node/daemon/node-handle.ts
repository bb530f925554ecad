/**
 * What a running node offers the commands executed inside it (through the CLI's control
 * channel): its open archive and PACS service, its status, and its mesh. The daemon provides
 * it; the CLI layer above uses it, so the arrow points from the CLI down to the daemon.
 */
import type { Archive } from '../archive/archive.ts'
import type { Pacs } from '../pacs/pacs.ts'
import type { InviteStore } from '../mesh/invites.ts'
import type { BackupVerification } from '../mesh/backup-verification.ts'
import type { SessionStore } from '../people/sessions.ts'

export interface NodeHandle {
  readonly archive: Archive
  readonly pacs: Pacs
  /** The running node's status (GET /api/status): mesh peers, transfers, studies' holding. */
  readonly status?: () => Record<string, unknown>
  /** People at this site (accounts, active emergency access): the people part of GET /api/status. */
  readonly people?: () => Promise<Record<string, unknown>>
  /** The running node's session store: commands end sessions through it, so its writes stay in one queue. */
  readonly sessions?: SessionStore
  /** The running node's mesh: its invites, and the addresses a new node can dial (`peerpacs invite`). */
  readonly mesh?: {
    readonly invites: InviteStore
    addresses (): string[]
    /** Challenges the org's backup for blocks (`peerpacs backup verify`). */
    verifyBackup?: (count: number | 'all', onProgress?: (done: number, total: number) => void) => Promise<BackupVerification>
  }
}


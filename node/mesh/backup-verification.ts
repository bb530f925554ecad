/**
 * `peerpacs backup verify`: this site challenges the org's backup node(s) for blocks chosen at
 * random (or all of them) from the blobs the log names, and checks every answer against the
 * block hashes in the log. The result names what is missing or damaged, is kept for `status`,
 * and is audited (110113 Security Alert, Node Authentication: whether the backup's holdings
 * authenticate against the signed log). A backup that finds its own copy damaged or missing
 * while answering sets it aside and fetches it again from a site (Mesh #repair).
 */
import type { SampleResult } from './verify-peer.ts'

export interface BackupVerification {
  readonly time: string
  readonly backups: Array<{ readonly nodeId: string, readonly connected: boolean }>
  readonly checked: number
  readonly ok: number
  readonly problems: Array<{ readonly backup: string, readonly blob: string, readonly block: number, readonly outcome: SampleResult['outcome'], readonly detail?: string }>
}

/** What `peerpacs status` does (its options and help: commands/status.ts). */
import { EXIT } from '../exit-codes.ts'
import { directoryOf } from '../../people/accounts.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable, plural } from '../output.ts'
import type { CommandContext } from '../command.ts'

interface PeerRow {
  peer: string, nodeId?: string, role?: string, connected: boolean, opsBehind?: number, lastSync?: string, addresses: string[]
  holdsOfThisNode?: number
  diverged?: Array<{ author: string, seq: number }>
  refused?: { count: number, lastReason: string, lastAt: string } | null
}
interface MeshStatus {
  peerId: string
  log?: { ownSeqs?: { journalHead: number, mark: number, hold: { journalHead: number, mustReach: number, source: string } | null, lostAtStart: { journalHead: number, mark: number } | null } }
  addresses: string[]
  peers: PeerRow[]
  transfers: { wanted: number, bytesPending: number, bytesFetched: number, inFlight: number } | null
  studies: { local: number, partial: number, remoteOnly: number }
}

interface HttpStatus { port?: number, scheme?: string, tls?: { fingerprint: string, subject: string, notAfter: string, source: string, certFile: string } | null }

function httpLine (http: HttpStatus): string {
  if (http.tls == null) return `HTTP on port ${http.port ?? '?'}: plain (TLS off; see \`peerpacs start --help\`, --tls).`
  const from = http.tls.source === 'generated' ? `self-signed, made by this node (${http.tls.certFile})` : `from ${http.tls.certFile}`
  return `HTTPS on port ${http.port ?? '?'}: certificate SHA-256 ${http.tls.fingerprint}, ${from}, valid until ${http.tls.notAfter}; plain http:// is redirected.`
}

interface DicomStatus { port?: number, tls?: { port?: number, fingerprint?: string, certFile?: string, source?: string } | null }

function dicomLine (dicom: DicomStatus): string {
  if (dicom.tls == null) return `DICOM on port ${dicom.port ?? '?'} (plain TCP); no DICOM TLS port (see \`peerpacs start --help\`, --dicom-tls).`
  return `DICOM on port ${dicom.port ?? '?'} (plain TCP) and DICOM TLS on port ${dicom.tls.port ?? '?'}: certificate SHA-256 ${dicom.tls.fingerprint ?? '?'}${dicom.tls.certFile === undefined ? '' : ` (${dicom.tls.certFile})`}.`
}

interface PeopleStatus { accounts: number, breakGlass: Array<{ username: string, study: string, until: string, reason: string }> }

function mb (bytes: number): string { return `${(bytes / 1e6).toFixed(1)} MB` }

export async function run (context: CommandContext): Promise<number> {
  const { out } = context
  return await withArchive(context, 'status', 'required', async (archive) => {
    const log = await archive.log()
    const state = log.oplog.state
    const base = {
      nodeId: archive.meta.nodeId,
      orgId: archive.meta.orgId,
      org: state.name,
      role: state.members.get(log.nodeId)?.role ?? null,
      ops: log.oplog.size,
      members: [...state.members.values()].filter((m) => !m.removed).length,
      studies: state.studies.size
    }
    const running = context.node?.status?.()
    const mesh = running?.mesh as MeshStatus | undefined
    const forks = [
      ...[...state.forks].map(([author, f]) => ({ author, seq: f.seq, evidence: [...f.evidence] })),
      ...log.suspectedForks().map((f) => ({ author: f.author, seq: f.seq, evidence: [...f.evidence] }))
    ]
    const hold = log.hold ?? null
    const people = (await context.node?.people?.()) as PeopleStatus | undefined
    const accounts = people?.accounts ?? (archive.keyring.hasEpochKey ? directoryOf(archive, log).list().length : undefined)
    out.record({ type: 'status', running: running !== undefined, ...base, forks, writesHeld: hold, ...(running?.http === undefined ? {} : { http: running.http }), ...(mesh === undefined ? {} : { mesh }), ...(people === undefined ? {} : { people }) })
    out.line(`Node ${base.nodeId} (${base.role ?? 'not yet a member'}) of org "${base.org}": ${plural(base.ops, 'op')}, ${plural(base.members, 'active member')}, ${plural(base.studies, 'study', 'studies')} in the log.`)
    if (accounts !== undefined) out.line(`${plural(accounts, 'person account')} (\`peerpacs users list\`).`)
    for (const b of people?.breakGlass ?? []) out.line(`EMERGENCY ACCESS: ${b.username} opened study ${b.study} until ${b.until}: "${b.reason}" (audited as 110113/110127).`)
    for (const f of forks) out.line(`FORK: ${f.author} signed two different ops at seq ${f.seq} (${f.evidence.map((e) => e.slice(0, 16)).join(', ')}): kept as evidence; its ops from that seq on do not apply.`)
    if (hold !== null) {
      out.line(`WRITES HELD: this node's journal ends at its own seq ${hold.journalHead}, but ${hold.source === 'mark' ? 'its high-water mark' : hold.source} holds seq ${hold.mustReach}: ` +
        `${hold.mustReach - hold.journalHead} own ops were deleted or lost. It signs nothing (no import, no audit record) until it has them back from a peer.`)
    }
    if (running?.http !== undefined) out.line(httpLine(running.http as HttpStatus))
    if (running?.dicom !== undefined) out.line(dicomLine(running.dicom as DicomStatus))
    if (mesh === undefined) {
      out.line('The node is not running: start it with `peerpacs start` to see peers and transfers.')
      return EXIT.OK
    }
    out.line(`Peer id ${mesh.peerId}, listening on ${mesh.addresses.join(' ') || '(nothing)'}`)
    const rows = [['PEER', 'ROLE', 'CONNECTED', 'OPS BEHIND', 'HOLDS OF US', 'REFUSED', 'LAST SYNC']]
    for (const p of mesh.peers) {
      rows.push([p.nodeId ?? p.peer, p.role ?? '', p.connected ? 'yes' : 'no', p.opsBehind === undefined ? '?' : String(p.opsBehind),
        p.holdsOfThisNode === undefined ? '?' : String(p.holdsOfThisNode), p.refused == null ? '0' : String(p.refused.count), p.lastSync ?? 'never'])
    }
    if (mesh.peers.length === 0) out.line('No other members yet: invite one with `peerpacs invite --role site`.')
    else for (const line of formatTable(rows)) out.line(line)
    for (const p of mesh.peers) {
      if (p.refused != null) out.line(`Refused from ${p.nodeId ?? p.peer}: ${p.refused.count} ops, the last (${p.refused.lastAt}) because: ${p.refused.lastReason}.`)
      for (const d of p.diverged ?? []) out.line(`DIVERGED: ${p.nodeId ?? p.peer} holds a different op of author ${d.author.slice(0, 16)}… at seq ${d.seq} (a fork; the evidence is being exchanged).`)
    }
    const own = mesh.log?.ownSeqs
    if (own?.lostAtStart != null) out.line(`At start the journal ended at own seq ${own.lostAtStart.journalHead} below the high-water mark ${own.lostAtStart.mark}: ops were deleted or lost (security alert raised).`)
    if (mesh.transfers !== null) out.line(`Transfers: ${mesh.transfers.wanted} blobs wanted (${mb(mesh.transfers.bytesPending)}), ${mesh.transfers.inFlight} in flight, ${mb(mesh.transfers.bytesFetched)} fetched.`)
    out.line(`Studies: ${mesh.studies.local} local, ${mesh.studies.partial} partial, ${mesh.studies.remoteOnly} remote-only.`)
    return EXIT.OK
  })
}

/**
 * `peerpacs status`: what the node holds and how it is connected. Through a running node: the
 * mesh (peers, ops each is behind, transfers, per-study state: local, partial, remote-only) and
 * the last sync time; with the node stopped: the log and the catalogue only, and says so.
 */
import type { CommandSpec } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable } from '../output.ts'

interface PeerRow { peer: string, nodeId?: string, role?: string, connected: boolean, opsBehind?: number, lastSync?: string, addresses: string[] }
interface MeshStatus {
  peerId: string
  addresses: string[]
  peers: PeerRow[]
  transfers: { wanted: number, bytesPending: number, bytesFetched: number, inFlight: number } | null
  studies: { local: number, partial: number, remoteOnly: number }
}

function mb (bytes: number): string { return `${(bytes / 1e6).toFixed(1)} MB` }

export const status: CommandSpec = {
  name: 'status',
  summary: 'Show the node: peers, sync state, transfers, and which studies are held here.',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
With the node running (\`peerpacs start\`): its peer id and addresses, every member with
whether it is connected, how many ops it lacked at the last sync and when that was, the
blobs and bytes still to fetch, and how many studies are local (every instance here),
partial (some) or remote-only (none yet). With the node stopped: the log and the catalogue.
--json prints one object.`,
  options: {},

  async run (context) {
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
      out.record({ type: 'status', running: running !== undefined, ...base, ...(mesh === undefined ? {} : { mesh }) })
      out.line(`Node ${base.nodeId} (${base.role ?? 'not yet a member'}) of org "${base.org}": ${base.ops} ops, ${base.members} active members, ${base.studies} studies in the log.`)
      if (mesh === undefined) {
        out.line('The node is not running: start it with `peerpacs start` to see peers and transfers.')
        return EXIT.OK
      }
      out.line(`Peer id ${mesh.peerId}, listening on ${mesh.addresses.join(' ') || '(nothing)'}`)
      const rows = [['PEER', 'ROLE', 'CONNECTED', 'OPS BEHIND', 'LAST SYNC']]
      for (const p of mesh.peers) rows.push([p.nodeId ?? p.peer, p.role ?? '', p.connected ? 'yes' : 'no', p.opsBehind === undefined ? '?' : String(p.opsBehind), p.lastSync ?? 'never'])
      if (mesh.peers.length === 0) out.line('No other members yet: invite one with `peerpacs invite --role site`.')
      else for (const line of formatTable(rows)) out.line(line)
      if (mesh.transfers !== null) out.line(`Transfers: ${mesh.transfers.wanted} blobs wanted (${mb(mesh.transfers.bytesPending)}), ${mesh.transfers.inFlight} in flight, ${mb(mesh.transfers.bytesFetched)} fetched.`)
      out.line(`Studies: ${mesh.studies.local} local, ${mesh.studies.partial} partial, ${mesh.studies.remoteOnly} remote-only.`)
      return EXIT.OK
    })
  }
}

/**
 * Who may associate and what they may do: the calling AE title and peer address must match a
 * configured remote (host '*' matches any address) unless unknown callers are accepted, and the
 * called AE title must be this node's. Permissions are per remote: store, query, retrieve; a
 * remote bound to a person role (a modality: technologist; a workstation: radiologist) gets them
 * from the role × service matrix below, the same table the HTTP routes use (people/roles.ts).
 * C-ECHO (verification) is open to every admitted remote.
 *
 * DICOM TLS (issue 19): a remote with `tls: "required"` (or a `certFingerprint`) is refused on the
 * plain port, and a pinned one is refused unless its client certificate has that SHA-256
 * fingerprint; both answered with the A-ASSOCIATE-RJ of a refused caller (permanent, calling AE
 * not recognized) and audited (refusals.ts).
 */
import { isIP, type Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { DimseSettings, RemoteAe } from '../config/settings.ts'
import { can, type PersonRole } from '../people/roles.ts'

export interface Permissions {
  readonly store: boolean
  readonly query: boolean
  readonly retrieve: boolean
}

export type AccessDecision =
  | { readonly ok: true, readonly permissions: Permissions, readonly remote: RemoteAe | undefined }
  | { readonly ok: false, readonly reason: 'calling' | 'called' | 'tls-required' | 'certificate', readonly detail?: string }

/** How the caller reached the node: over the TLS port or not, and the client certificate it showed. */
export interface Transport {
  readonly tls: boolean
  /** SHA-256 of the client certificate, `AB:CD:...`; absent when none was given. */
  readonly certFingerprint?: string
}

export const PLAIN: Transport = { tls: false }

/** The transport of a connection of the DIMSE edge. */
export function transportOf (socket: Socket): Transport {
  if (!(socket instanceof TLSSocket)) return PLAIN
  const cert = socket.getPeerCertificate()
  const fingerprint = typeof cert?.fingerprint256 === 'string' && cert.fingerprint256 !== '' ? cert.fingerprint256.toUpperCase() : undefined
  return { tls: true, ...(fingerprint === undefined ? {} : { certFingerprint: fingerprint }) }
}

const EVERYTHING: Permissions = { store: true, query: true, retrieve: true }

/**
 * The DIMSE services of a role: C-STORE needs study.ingest; C-FIND and C-MOVE/C-GET need
 * study.read (every study). DIMSE does not apply per-study limits, so a role that reads only
 * some studies (a technologist: its own site's; a referrer: its shares) gets no query or
 * retrieve here rather than all of them (docs/access-control.md, "Known limits").
 */
export function rolePermissions (role: PersonRole): Permissions {
  const reads = can(role, 'study.read')
  return { store: can(role, 'study.ingest'), query: reads, retrieve: reads }
}

/** What a configured remote may do: its role's services when it has one, else its flags. */
export function permissionsOf (remote: RemoteAe): Permissions {
  if (remote.role !== undefined) return rolePermissions(remote.role)
  return { store: remote.store, query: remote.query, retrieve: remote.retrieve }
}

/** IPv4 peers on a dual-stack socket show as ::ffff:a.b.c.d. */
export function plainAddress (address: string | undefined): string {
  const a = address ?? ''
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a
}

function hostMatches (configured: string, address: string): boolean {
  if (configured === '*') return true
  if (plainAddress(configured) === address) return true
  // 'localhost' names the loopback addresses; other host names would need a resolver the edge does not run per association.
  return configured === 'localhost' && (address === '127.0.0.1' || address === '::1')
}

export function decideAccess (settings: DimseSettings, callingAe: string, calledAe: string, peerAddress: string | undefined, transport: Transport = PLAIN): AccessDecision {
  const address = plainAddress(peerAddress)
  const remote = settings.remotes.find((r) => r.aeTitle === callingAe && hostMatches(r.host, address))
  if (remote === undefined && !settings.acceptUnknown) return { ok: false, reason: 'calling' }
  if (calledAe !== settings.aeTitle) return { ok: false, reason: 'called' }
  if (remote !== undefined && (remote.tls === 'required' || remote.certFingerprint !== undefined) && !transport.tls) return { ok: false, reason: 'tls-required', detail: 'plain DIMSE port' }
  if (remote?.certFingerprint !== undefined && transport.certFingerprint !== remote.certFingerprint) {
    return { ok: false, reason: 'certificate', detail: transport.certFingerprint === undefined ? 'no client certificate' : `presented ${transport.certFingerprint}` }
  }
  return { ok: true, permissions: remote === undefined ? EVERYTHING : permissionsOf(remote), remote }
}

/** A configured C-MOVE destination: it must have a port and a concrete host. */
export function moveDestination (settings: DimseSettings, aeTitle: string): RemoteAe | undefined {
  return settings.remotes.find((r) => r.aeTitle === aeTitle && r.port !== undefined && r.host !== '*')
}

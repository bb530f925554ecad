/**
 * What a running node is configured with, after the config file, the environment and the flags
 * have been merged and validated (config.ts). Each edge takes its own part.
 */
import type { PersonRole } from '../people/roles.ts'

/** An application entity that may talk to this node over DIMSE. */
export interface RemoteAe {
  readonly aeTitle: string
  /** The address it connects from (an IP or a host name; '*' for any). */
  readonly host: string
  /** Where it listens, for C-MOVE destinations; absent: it can't be a C-MOVE destination. */
  readonly port?: number
  /**
   * The person role it acts as (a modality: technologist; a workstation: radiologist): its
   * services then come from the role (dimse/access.ts, rolePermissions) and the flags below are
   * those of the role. Absent: the flags as configured.
   */
  readonly role?: PersonRole
  /** What it may ask for. */
  readonly store: boolean
  readonly query: boolean
  readonly retrieve: boolean
  /**
   * DICOM TLS (issue 19). `required`: it is refused on the plain DIMSE port (it must call the TLS
   * port), and a C-MOVE to it goes over TLS. Absent or `optional`: either port; a C-MOVE to it is
   * plain TCP.
   */
  readonly tls?: 'required' | 'optional'
  /**
   * SHA-256 of its certificate (colon-separated upper-case hex): when it calls, its client
   * certificate must be this one; as a TLS C-MOVE destination, its server certificate must be this
   * one (instead of chaining to `dicom.tls.ca`). Implies `tls: required`.
   */
  readonly certFingerprint?: string
}

/**
 * DICOM TLS (PS3.15 Annex B, BCP 195 profile) on a second DIMSE port, beside the plain one. Without
 * `cert`/`key` the node makes (once) and keeps its own self-signed certificate for DIMSE (for
 * server and client authentication: a C-MOVE destination may ask for it).
 */
export interface DimseTlsSettings {
  readonly host: string
  readonly port: number
  /** PEM certificate (chain) and its private key, given by the operator; both or neither. */
  readonly cert?: string
  readonly key?: string
  /** PEM file of the certificates trusted for callers' client certificates and TLS C-MOVE destinations. */
  readonly ca?: string
  /** Every TLS caller must present a certificate that chains to `ca` (refused at the handshake otherwise). */
  readonly requireClientCert: boolean
}

export interface DimseSettings {
  readonly host: string
  readonly port: number
  readonly aeTitle: string
  readonly remotes: readonly RemoteAe[]
  /** Whether callers absent from `remotes` are accepted (development only; off by default). */
  readonly acceptUnknown: boolean
  /** Largest PDU this node receives. */
  readonly maxPduLength: number
  /** Seconds an association may go without receiving a whole PDU, while no work of its own is under way, before it is aborted. */
  readonly idleTimeout: number
  /** PS3.8 ARTIM, in seconds: from TCP accept until the A-ASSOCIATE-RQ is complete, and from a reject, release or abort until the peer closes. */
  readonly artimTimeout: number
  /** Connections from one address at a time; more are answered A-ASSOCIATE-RJ (transient, local limit exceeded). */
  readonly maxConnectionsPerAddress: number
  /** The DICOM TLS port; absent: off (the default). */
  readonly tls?: DimseTlsSettings
}

/**
 * HTTPS on the HTTP port (daemon/tls.ts). `auto`: on when the HTTP address is not loopback, off on
 * loopback unless a certificate is given; `on` / `off` say so whatever the address. Without
 * `cert`/`key` the node makes (once) and keeps a self-signed certificate in its data dir.
 */
export interface HttpTlsSettings {
  readonly mode: 'auto' | 'on' | 'off'
  /** PEM certificate (chain) and its private key, given by the operator; both or neither. */
  readonly cert?: string
  readonly key?: string
}

export interface HttpSettings {
  readonly host: string
  readonly port: number
  /** Absent: `{ mode: 'auto' }`. */
  readonly tls?: HttpTlsSettings
  /** Origins a browser viewer may call from ('*' for any); empty: CORS off. */
  readonly corsOrigins: readonly string[]
  /** Largest STOW-RS request body, in bytes. */
  readonly maxStowBytes: number
  /** Seconds a client has to send a request's headers (config.ts DEFAULTS when absent, for every field below). */
  readonly headersTimeout?: number
  /** Seconds a client has to send a whole request, body included (0: no limit); STOW of a large study takes minutes. */
  readonly requestTimeout?: number
  /** Seconds a connection may pass with no byte either way (a stalled body, an unread response) before it is closed. */
  readonly idleTimeout?: number
  /** Seconds an idle keep-alive connection is kept for the next request. */
  readonly keepAliveTimeout?: number
  /** Connections from one address at a time; more are answered 503 and closed. */
  readonly maxConnectionsPerAddress?: number
}

export interface MeshSettings {
  /** Multiaddrs the libp2p host listens on. */
  readonly listen: readonly string[]
  /** Bootstrap peers' multiaddrs (ideally with /p2p/<peer id>). */
  readonly peers: readonly string[]
  /** Announce and discover peers on the LAN with mDNS. */
  readonly mdns: boolean
}

export interface NodeSettings {
  readonly dataDir: string
  readonly dimse: DimseSettings
  readonly http: HttpSettings
  readonly mesh: MeshSettings
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error'
}

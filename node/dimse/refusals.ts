/**
 * Associations refused by the AE allow-list, reported without letting a flood of them flood
 * the signed log (every audit op replicates to every site and the backup, forever):
 *  - the first refusal of a (reason, calling AE, address) is audited at once (110113 Security
 *    Alert); further ones in the next window are counted, and when the window ends one more
 *    record carries their count, for as long as they keep coming: one op per source per window;
 *  - an address that rotates calling AE titles gets a few sources of its own per window, then
 *    the rest fold into one "any other AE" source of that address;
 *  - the log says once per (AE, address) what the operator would add to let it in (the exact
 *    --allow-ae entry and the config file snippet), or which AE title to call for a wrong
 *    called AE; later refusals log at debug level only.
 * close() writes the counts still pending, so a stopping node loses none.
 * DICOM TLS refusals (issue 19) go the same way: an AE that must use TLS calling the plain port
 * (`tls-required`), a client certificate missing or not the AE's pinned one (`certificate`), and a
 * failed TLS handshake on the TLS port (`handshake`, no AE title known yet); `detail` says why.
 */
import { OUTCOME, EVENT_TYPE, nodeSource, securityAlertEvent } from '../../protocol/audit/index.ts'
import type { AuditPort } from '../audit/audit-port.ts'
import { remoteAe, thisNode } from '../audit/actors.ts'
import type { Logger } from '../logging/logger.ts'
import { plainAddress } from './access.ts'

export const REFUSAL_WINDOW_MS = 60_000
/** Distinct calling AE titles audited separately per address and window; more fold into '*'. */
const SOURCES_PER_ADDRESS = 8
/** Sources remembered at once (pending windows, and pairs already given a hint). */
const MAX_REMEMBERED = 10_000

export type RefusalReason = 'calling' | 'called' | 'tls-required' | 'certificate' | 'handshake'

const WHAT: Record<RefusalReason, string> = {
  calling: 'association refused: calling AE not recognized',
  called: 'association refused: called AE not recognized',
  'tls-required': 'association refused: the AE must use DICOM TLS, it called the plain port',
  certificate: 'association refused: client certificate missing or not the one pinned for the AE',
  handshake: 'TLS connection refused at the handshake'
}

interface Source {
  readonly reason: RefusalReason
  readonly callingAe: string
  readonly address: string
  /** Refusals since the last record. */
  count: number
  since: number
  timer: NodeJS.Timeout
  detail: string | undefined
}

/** The setting that would let `callingAe` in from `address`, as a flag and as config. */
export function allowHint (callingAe: string, address: string): { flag: string, env: string, config: string } | { config: string } {
  const host = address.includes(':') ? `[${address}]` : address
  const entry = `${callingAe}@${host}`
  const config = `"dicom": { "remotes": [ ${JSON.stringify({ aeTitle: callingAe, host: address })} ] }`
  // An AE title with a comma or an @ cannot be written in the comma-separated AET@HOST list.
  if (/[,@]/.test(callingAe)) return { config }
  const quoted = /^[A-Za-z0-9_.@:[\]-]+$/.test(entry) ? entry : `'${entry.replace(/'/g, "'\\''")}'`
  return { flag: `--allow-ae ${quoted}`, env: `PEERPACS_ALLOW_AE=${quoted}`, config }
}

export interface RefusalOptions {
  readonly audit: AuditPort
  /** This node's AE title. */
  readonly aeTitle: string
  readonly log: Logger
  readonly windowMs?: number
}

export class RefusalReporter {
  readonly #o: RefusalOptions
  readonly #windowMs: number
  readonly #sources = new Map<string, Source>()
  readonly #hinted = new Set<string>()
  #closed = false

  constructor (options: RefusalOptions) {
    this.#o = options
    this.#windowMs = options.windowMs ?? REFUSAL_WINDOW_MS
  }

  /** One association refused. */
  refused (reason: RefusalReason, callingAe: string, calledAe: string, peerAddress: string | undefined, detail?: string): void {
    if (this.#closed) return
    const address = plainAddress(peerAddress)
    this.#hint(reason, callingAe, calledAe, address, detail)
    let key = `${reason}\u0000${callingAe}\u0000${address}`
    if (!this.#sources.has(key)) {
      let fromAddress = 0
      for (const s of this.#sources.values()) if (s.address === address && s.reason === reason) fromAddress++
      if (fromAddress >= SOURCES_PER_ADDRESS) key = `${reason}\u0000*\u0000${address}`
    }
    const source = this.#sources.get(key)
    if (source !== undefined) {
      source.count++
      source.detail = detail
      return
    }
    if (this.#sources.size >= MAX_REMEMBERED) this.close()
    const ae = key.split('\u0000')[1]!
    this.#record(reason, ae, address, 1, Date.now(), Date.now(), detail)
    const fresh: Source = { reason, callingAe: ae, address, count: 0, since: Date.now(), timer: this.#timer(key), detail }
    this.#sources.set(key, fresh)
  }

  /** Writes the counts still pending and stops the windows. */
  close (): void {
    for (const [key, source] of this.#sources) {
      clearTimeout(source.timer)
      if (source.count > 0) this.#record(source.reason, source.callingAe, source.address, source.count, source.since, Date.now(), source.detail)
      this.#sources.delete(key)
    }
  }

  /** Stops for good (the server is closing). */
  stop (): void {
    this.close()
    this.#closed = true
  }

  #timer (key: string): NodeJS.Timeout {
    const timer = setTimeout(() => { this.#roll(key) }, this.#windowMs)
    timer.unref()
    return timer
  }

  #roll (key: string): void {
    const source = this.#sources.get(key)
    if (source === undefined) return
    if (source.count === 0) {
      this.#sources.delete(key)
      return
    }
    this.#record(source.reason, source.callingAe, source.address, source.count, source.since, Date.now(), source.detail)
    source.count = 0
    source.since = Date.now()
    source.timer = this.#timer(key)
  }

  #record (reason: RefusalReason, callingAe: string, address: string, count: number, from: number, to: number, detail?: string): void {
    const { audit, aeTitle } = this.#o
    const what = detail === undefined ? WHAT[reason] : `${WHAT[reason]} (${detail})`
    const times = count === 1 ? what : `${what}, ${count} times from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`
    const from_ = remoteAe(callingAe, address)
    try {
      audit.emit(securityAlertEvent({
        time: to,
        source: nodeSource(audit.nodeId),
        outcome: OUTCOME.minorFailure,
        outcomeDescription: times.slice(0, 200),
        types: [EVENT_TYPE.nodeAuthentication],
        reporter: thisNode(audit.nodeId, aeTitle),
        performers: [from_],
        subjects: [{ kind: 'node', id: from_.userId, description: `${count} refused association${count === 1 ? '' : 's'}` }]
      }))
    } catch (error) {
      this.#o.log.error('dimse.refusal.audit-failed', { error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' })
    }
  }

  #hint (reason: RefusalReason, callingAe: string, calledAe: string, address: string, detail?: string): void {
    const key = `${reason}\u0000${reason === 'called' ? calledAe : callingAe}\u0000${address}\u0000${detail ?? ''}`
    const fields = { callingAe, calledAe, peer: address, reason: reason === 'calling' || reason === 'called' ? `${reason} AE not recognized` : WHAT[reason], ...(detail === undefined ? {} : { detail }) }
    const event = reason === 'handshake' ? 'dimse.tls.handshake-refused' : 'dimse.association.rejected'
    if (this.#hinted.has(key)) {
      this.#o.log.debug(event, fields)
      return
    }
    if (this.#hinted.size >= MAX_REMEMBERED) this.#hinted.clear()
    this.#hinted.add(key)
    if (reason === 'tls-required' || reason === 'certificate' || reason === 'handshake') {
      const hint = reason === 'tls-required'
        ? `${callingAe} has "tls": "required" (or a certFingerprint) in dicom.remotes: configure it to call the DICOM TLS port (dcmtk: +tls KEY CERT), or remove that setting`
        : reason === 'certificate'
          ? `${callingAe} is pinned to a certificate (dicom.remotes certFingerprint): it must present that certificate over TLS; to accept a new one, put its SHA-256 fingerprint there`
          : 'a TLS caller needs a client certificate issued by the CA in dicom.tls.ca when dicom.tls.requireClientCert is on; a caller that cannot do TLS uses the plain DIMSE port'
      this.#o.log.warn(event, { ...fields, hint })
      return
    }
    if (reason === 'called') {
      this.#o.log.warn('dimse.association.rejected', { ...fields, hint: `the caller asked for AE title "${calledAe}"; this node is "${this.#o.aeTitle}": configure the caller to call ${this.#o.aeTitle} (e.g. -aec ${this.#o.aeTitle} for dcmtk), or start the node with --ae-title` })
      return
    }
    const hint = allowHint(callingAe, address)
    const text = 'flag' in hint
      ? `to let it in, start the node with ${hint.flag} (or ${hint.env}; several entries comma-separated), or add to the config file: ${hint.config}`
      : `to let it in, add to the config file: ${hint.config}`
    this.#o.log.warn('dimse.association.rejected', { ...fields, hint: text, ...('flag' in hint ? { setting: hint.flag } : { setting: hint.config }) })
  }
}

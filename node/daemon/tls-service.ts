/**
 * The certificate a running node serves, and its renewal without a restart (issue 19).
 *
 * The operator's files are watched (polled every 2 s by path, so a renewal that writes new files,
 * renames over them or swaps a symlink, as certbot does, is seen) and read again on SIGHUP; a
 * pair that reads and matches replaces the served one for new connections (open ones keep
 * theirs), and a bad pair (half written, mismatched, expired) is refused with a log line while the
 * old one goes on serving. A generated certificate is checked twice a day and made anew 30 days
 * before its end (tls-generate.ts).
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { SecureContextOptions } from 'node:tls'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { RandomSource } from '../../protocol/random.ts'
import type { HttpSettings } from '../config/settings.ts'
import type { Logger } from '../logging/logger.ts'
import { generatedTls } from './tls-generate.ts'
import { loadPair, secureOptions, tlsEnabled, type TlsInfo, type TlsMaterial } from './tls.ts'

export interface SecureContextTarget {
  setSecureContext: (options: SecureContextOptions) => void
}

export interface OpenTlsOptions {
  readonly keysDir: string
  readonly passphrase: string | undefined
  readonly provider: CryptoProvider
  readonly random: RandomSource
  readonly log: Logger
  /** How often the operator's files are polled, in ms (default 2000). */
  readonly pollMs?: number
  /** How often a generated certificate is checked for renewal, in ms (default 12 h). */
  readonly renewCheckMs?: number
}

export class TlsService {
  #material: TlsMaterial
  readonly #reread: () => Promise<TlsMaterial>
  readonly #files: readonly string[]
  readonly #options: OpenTlsOptions
  #target: SecureContextTarget | undefined
  #timer: NodeJS.Timeout | undefined
  #pending: NodeJS.Timeout | undefined
  #reloading: Promise<boolean> = Promise.resolve(true)
  readonly #onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return
    // Cert and key are written one after the other: wait for both before reading.
    clearTimeout(this.#pending)
    this.#pending = setTimeout(() => { void this.reload('the files changed') }, 300)
  }

  readonly #onHangup = (): void => { void this.reload('SIGHUP') }

  constructor (material: TlsMaterial, reread: () => Promise<TlsMaterial>, files: readonly string[], options: OpenTlsOptions) {
    this.#material = material
    this.#reread = reread
    this.#files = files
    this.#options = options
  }

  get info (): TlsInfo { return this.#material.info }
  get secureOptions (): SecureContextOptions { return secureOptions(this.#material) }

  /** Starts watching, swapping the server's context on a good renewal. */
  attach (target: SecureContextTarget): void {
    this.#target = target
    for (const file of this.#files) watchFile(file, { interval: this.#options.pollMs ?? 2000, persistent: false }, this.#onChange)
    process.on('SIGHUP', this.#onHangup)
    if (this.#material.info.source === 'generated') {
      this.#timer = setInterval(() => { void this.reload('renewal check') }, this.#options.renewCheckMs ?? 12 * 3_600_000)
      this.#timer.unref()
    }
  }

  /** Reads the certificate again; true when it is served (changed or not), false when refused. */
  async reload (reason: string): Promise<boolean> {
    this.#reloading = this.#reloading.then(async () => {
      const log = this.#options.log
      let next: TlsMaterial
      try {
        next = await this.#reread()
      } catch (error) {
        log.warn('tls.reload.refused', { reason, error: (error as Error).message, keptFingerprint: this.#material.info.fingerprint })
        return false
      }
      if (next.info.fingerprint === this.#material.info.fingerprint && next.key === this.#material.key) return true
      try {
        this.#target?.setSecureContext(secureOptions(next))
      } catch (error) {
        log.warn('tls.reload.refused', { reason, error: (error as Error).message, keptFingerprint: this.#material.info.fingerprint })
        return false
      }
      log.info('tls.reloaded', { reason, fingerprint: next.info.fingerprint, previous: this.#material.info.fingerprint, notAfter: next.info.notAfter, subject: next.info.subject })
      this.#material = next
      return true
    })
    return await this.#reloading
  }

  close (): void {
    for (const file of this.#files) unwatchFile(file, this.#onChange)
    process.removeListener('SIGHUP', this.#onHangup)
    clearInterval(this.#timer)
    clearTimeout(this.#pending)
    this.#target = undefined
  }
}

/**
 * The node's TLS, or undefined when it serves plain HTTP (tls.ts: tlsEnabled). Errors in the
 * operator's files are ConfigErrors naming them, thrown before anything listens.
 */
export async function openTls (http: Pick<HttpSettings, 'host' | 'tls'>, options: OpenTlsOptions): Promise<TlsService | undefined> {
  if (!tlsEnabled(http)) return undefined
  const given = http.tls?.cert !== undefined && http.tls.key !== undefined ? { cert: http.tls.cert, key: http.tls.key } : undefined
  const read = given !== undefined
    ? async () => await loadPair(given)
    : async () => await generatedTls({ keysDir: options.keysDir, host: http.host, passphrase: options.passphrase, provider: options.provider, random: options.random, log: options.log })
  return new TlsService(await read(), read, given === undefined ? [] : [given.cert, given.key], options)
}

/**
 * HTTPS for the node's HTTP port (issue 19): whether it is on, the certificate it serves, and the
 * TLS settings.
 *
 *   on or off    `http.tls.mode` auto (the default) turns HTTPS on when the HTTP address is not
 *                loopback (passwords and PHI never cross a LAN in clear) and leaves plain HTTP on
 *                loopback (nothing leaves the machine), unless a certificate is given; on / off
 *                say so whatever the address (off: behind a proxy that terminates TLS).
 *   certificate  the operator's PEM pair (--tls-cert/--tls-key), checked at start: a file that is
 *                not PEM, a key that does not match, an expired certificate is a ConfigError
 *                naming the file, and nothing starts. Without one, a generated self-signed
 *                certificate kept in the data dir (tls-generate.ts).
 *   settings     TLS 1.2 minimum; AEAD suites with forward secrecy only (the TLS 1.3 suites, and
 *                ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2), as RFC 9325 (BCP 195) §4.2
 *                recommends; no CBC, no static RSA, no renegotiation (TLS 1.3 has none; Node
 *                limits it for 1.2).
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { ConfigError } from '../config/config.ts'
import type { HttpSettings } from '../config/settings.ts'

export const TLS_MIN_VERSION = 'TLSv1.2'
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'
].join(':')
/** Sent on every HTTPS answer (RFC 6797): a year; browsers then refuse plain HTTP to this host. */
export const HSTS = 'max-age=31536000'

/** What `status`, GET /api/status and the logs say about the certificate served. */
export interface TlsInfo {
  /** SHA-256 of the certificate's DER, colon-separated hex (as browsers and openssl show it). */
  readonly fingerprint: string
  readonly subject: string
  /** ISO 8601. */
  readonly notAfter: string
  /** `files`: the operator's pair; `generated`: self-signed, made by this node. */
  readonly source: 'files' | 'generated'
  /** The certificate file (to trust it: `curl --cacert FILE`, or import it in a browser). */
  readonly certFile: string
}

/** A certificate and key, checked to belong together, ready for a secure context. */
export interface TlsMaterial {
  readonly cert: string
  readonly key: string
  readonly info: TlsInfo
}

export function isLoopbackHost (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.')) || h.startsWith('::ffff:127.')
}

/** Whether the node serves HTTPS with these settings (the rule in the header). */
export function tlsEnabled (http: Pick<HttpSettings, 'host' | 'tls'>): boolean {
  const tls = http.tls ?? { mode: 'auto' }
  if (tls.mode !== 'auto') return tls.mode === 'on'
  return tls.cert !== undefined || !isLoopbackHost(http.host)
}

export function fingerprintOf (cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':')
}

/** The options every secure context of the node gets. */
export function secureOptions (material: Pick<TlsMaterial, 'cert' | 'key'>): SecureContextOptions {
  return { cert: material.cert, key: material.key, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true }
}

/**
 * Checks a PEM certificate (its first one is the server's; the rest, a chain) and key: parsed,
 * matching, currently valid, and accepted by OpenSSL with the node's settings. `where` names the
 * files in errors; `now` is the clock.
 */
export function checkPair (certPem: string, keyPem: string, files: { cert: string, key: string }, source: TlsInfo['source'], now: number): TlsMaterial {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(certPem)
  if (first === null) throw new ConfigError(`${files.cert} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`, 'give the server certificate in PEM form (certbot: fullchain.pem)')
  let cert: X509Certificate
  try { cert = new X509Certificate(first[0]) } catch (error) {
    throw new ConfigError(`${files.cert}: the certificate cannot be read (${(error as Error).message})`, 'give the server certificate in PEM form')
  }
  let key: KeyObject
  try { key = createPrivateKey(keyPem) } catch (error) {
    throw new ConfigError(`${files.key}: no private key can be read from it (${(error as Error).message.slice(0, 200)})`, 'give the certificate\'s private key in PEM form, unencrypted (certbot: privkey.pem)')
  }
  if (!cert.checkPrivateKey(key)) throw new ConfigError(`${files.key} is not the private key of the certificate in ${files.cert}`, 'give the key the certificate was issued for')
  const notAfter = new Date(cert.validTo)
  if (notAfter.getTime() <= now) throw new ConfigError(`the certificate in ${files.cert} expired on ${notAfter.toISOString()}`, 'renew it, or remove --tls-cert/--tls-key for a generated one')
  if (new Date(cert.validFrom).getTime() > now + 5 * 60_000) throw new ConfigError(`the certificate in ${files.cert} is not valid before ${new Date(cert.validFrom).toISOString()}`, 'check the machine\'s clock')
  try { createSecureContext(secureOptions({ cert: certPem, key: keyPem })) } catch (error) {
    throw new ConfigError(`${files.cert} and ${files.key} are refused by TLS: ${(error as Error).message.slice(0, 200)}`)
  }
  return {
    cert: certPem,
    key: keyPem,
    info: { fingerprint: fingerprintOf(cert), subject: cert.subject.replace(/\n/g, ', '), notAfter: notAfter.toISOString(), source, certFile: files.cert }
  }
}

async function readPem (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, `check the path and that this user may read it (--tls-${what === 'certificate' ? 'cert' : 'key'})`)
  }
}

/** The operator's pair, read and checked (checkPair). */
export async function loadPair (files: { cert: string, key: string }, now = Date.now()): Promise<TlsMaterial> {
  const [cert, key] = [await readPem(files.cert, 'certificate'), await readPem(files.key, 'key')]
  return checkPair(cert, key, files, 'files', now)
}

/**
 * The node's own HTTPS certificate, for when the operator gives none (issue 19): made once, on
 * the first start that needs it, and kept in the data dir so its fingerprint stays the same
 * (people trust it once):
 *
 *   keys/tls-cert.pem    the certificate (public; import it in a browser or `curl --cacert` it)
 *   keys/tls-key.sealed  its private key (PEM), sealed like the node's keys (passphrase-seal.ts):
 *                        with the node's passphrase when it has one, else as-is; mode 0600
 *
 * ECDSA P-256 with SHA-256 (every browser and TLS client takes it), valid 825 days (the longest
 * Apple platforms accept), self-signed, for localhost, 127.0.0.1, ::1, the machine's host name
 * (and NAME.local, mDNS), the HTTP address when it names one, and the machine's interface
 * addresses when it listens on all of them. It is made anew (a new fingerprint, logged) when it
 * is missing, damaged, within 30 days of its end, or does not cover localhost, the host name or the
 * configured address.
 *
 * node:crypto makes keys but not certificates: @peculiar/x509 (MIT, maintained by Peculiar
 * Ventures, already in the tree under @simplewebauthn/server) builds the X.509 structure over
 * WebCrypto; it needs the reflect-metadata polyfill loaded before it.
 */
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'
import { join } from 'node:path'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { RandomSource } from '../../protocol/random.ts'
import { openWithPassphrase, sealWithPassphrase } from '../keys/passphrase-seal.ts'
import { writeFileAtomic } from '../store/atomic-file.ts'
import { utf8Decode, utf8Encode } from '../../protocol/bytes.ts'
import type { Logger } from '../logging/logger.ts'
import { checkPair, type TlsMaterial } from './tls.ts'

export const GENERATED_CERT_FILE = 'tls-cert.pem'
export const GENERATED_KEY_FILE = 'tls-key.sealed'
const VALID_DAYS = 825
const RENEW_BEFORE_MS = 30 * 86_400_000
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

export interface GeneratedTlsOptions {
  readonly keysDir: string
  /** The HTTP listen host (an address or name; 0.0.0.0 / :: mean every interface). */
  readonly host: string
  readonly passphrase: string | undefined
  readonly provider: CryptoProvider
  readonly random: RandomSource
  readonly log: Logger
  readonly now?: number
  /** Other file names in keysDir (DICOM TLS keeps its own certificate: dimse-tls.ts). */
  readonly files?: { readonly cert: string, readonly key: string }
  /** Client authentication too (DICOM TLS: a C-MOVE destination may ask for the node's certificate). */
  readonly clientAuth?: boolean
}

/** The names and addresses a generated certificate must cover, and those it also lists. */
export function subjectNames (host: string): { required: { dns: string[], ip: string[] }, extra: string[] } {
  const name = hostname().toLowerCase()
  const required = { dns: ['localhost', name], ip: ['127.0.0.1', '::1'] }
  const h = host.replace(/^\[|\]$/g, '')
  const everywhere = h === '0.0.0.0' || h === '::' || h === ''
  if (!everywhere) {
    if (isIP(h) !== 0) required.ip.push(h)
    else required.dns.push(h.toLowerCase())
  }
  const extra: string[] = name.includes('.') ? [] : [`${name}.local`]
  if (everywhere) {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (!a.internal && !a.address.toLowerCase().startsWith('fe80:')) extra.push(a.address)
    }
  }
  return { required, extra }
}

function covers (cert: X509Certificate, names: { dns: string[], ip: string[] }): boolean {
  return names.dns.every((d) => cert.checkHost(d, { wildcards: false }) !== undefined) && names.ip.every((ip) => cert.checkIP(ip) !== undefined)
}

async function existing (options: GeneratedTlsOptions, now: number): Promise<TlsMaterial | string> {
  const certFile = join(options.keysDir, options.files?.cert ?? GENERATED_CERT_FILE)
  const keyFile = join(options.keysDir, options.files?.key ?? GENERATED_KEY_FILE)
  let certPem: string, sealed: Uint8Array
  try {
    certPem = await readFile(certFile, 'utf8')
    sealed = new Uint8Array(await readFile(keyFile))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none yet'
    throw error
  }
  try {
    const keyPem = utf8Decode(await openWithPassphrase(options.provider, sealed, options.passphrase, keyFile))
    const material = checkPair(certPem, keyPem, { cert: certFile, key: keyFile }, 'generated', now)
    if (Date.parse(material.info.notAfter) - now < RENEW_BEFORE_MS) return `it ends on ${material.info.notAfter}`
    if (!covers(new X509Certificate(certPem), subjectNames(options.host).required)) return 'it does not cover this machine\'s names or the HTTP address'
    if (options.clientAuth === true && !(new X509Certificate(certPem).keyUsage ?? []).includes(CLIENT_AUTH)) return 'it is not for client authentication'
    return material
  } catch (error) {
    // Sealed with another passphrase, damaged, expired: a new one replaces it (the logs say why).
    return `it cannot be used: ${(error as Error).message.slice(0, 200)}`
  }
}

/** The node's generated certificate: the kept one when still good, else a new one (written before use). */
export async function generatedTls (options: GeneratedTlsOptions): Promise<TlsMaterial> {
  const now = options.now ?? Date.now()
  const kept = await existing(options, now)
  if (typeof kept !== 'string') return kept
  const { certPem, keyPem } = await makeCertificate(options.host, now, options.clientAuth === true)
  const certFile = join(options.keysDir, options.files?.cert ?? GENERATED_CERT_FILE)
  const keyFile = join(options.keysDir, options.files?.key ?? GENERATED_KEY_FILE)
  await writeFileAtomic(keyFile, await sealWithPassphrase(utf8Encode(keyPem), options.passphrase, { provider: options.provider, random: options.random }), 0o600)
  await writeFileAtomic(certFile, certPem, 0o600)
  const material = checkPair(certPem, keyPem, { cert: certFile, key: keyFile }, 'generated', now)
  options.log.info('tls.certificate.generated', { reason: kept, fingerprint: material.info.fingerprint, notAfter: material.info.notAfter, certFile, sealed: options.passphrase !== undefined })
  return material
}

/** A self-signed ECDSA P-256 certificate for this machine (see the header). */
export async function makeCertificate (host: string, now: number, clientAuth = false): Promise<{ certPem: string, keyPem: string }> {
  await import('reflect-metadata')
  const x509 = await import('@peculiar/x509')
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const names = subjectNames(host)
  const ips = [...new Set([...names.required.ip, ...names.extra.filter((n) => isIP(n) !== 0)])]
  const dns = [...new Set([...names.required.dns, ...names.extra.filter((n) => isIP(n) === 0)])]
  const serial = randomBytes(16)
  serial[0]! &= 0x7f
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${hostname().replace(/[,+="\\<>;#]/g, '-')}, O=peerpacs node (self-signed)`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALID_DAYS * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(clientAuth ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  }, webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1])
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  return { certPem: cert.toString('pem') + '\n', keyPem }
}

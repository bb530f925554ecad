/**
 * The certificate of the DICOM TLS port (issue 19), with the same loading, checks, renewal and
 * reload as HTTPS (tls.ts, tls-service.ts): the operator's pair (--dicom-tls-cert/--dicom-tls-key)
 * when given, else a certificate the node makes once and keeps beside the HTTPS one:
 *
 *   keys/dicom-tls-cert.pem    public; give it to the modalities and destinations that pin or trust it
 *   keys/dicom-tls-key.sealed  its key, sealed with the node's passphrase like the HTTPS key
 *
 * It is a certificate of its own, not the HTTPS one, because DICOM TLS authenticates both ends: a
 * C-MOVE destination such as dcmtk's storescp asks for the node's certificate and OpenSSL refuses
 * a server-only certificate there ("unsupported certificate purpose"), so this one is made for
 * server and client authentication. The CA file (--dicom-tls-ca) is read once at start.
 */
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { SecureContextOptions } from 'node:tls'
import { ConfigError } from '../config/config.ts'
import type { DimseTlsSettings } from '../config/settings.ts'
import type { DimseTls } from '../dimse/server.ts'
import { generatedTls } from './tls-generate.ts'
import { loadPair, type TlsMaterial } from './tls.ts'
import { TlsService, type OpenTlsOptions } from './tls-service.ts'

export const DIMSE_CERT_FILE = 'dicom-tls-cert.pem'
export const DIMSE_KEY_FILE = 'dicom-tls-key.sealed'

/** The CA file: PEM certificates, at least one, each readable; a ConfigError naming the file otherwise. */
export async function loadCa (file: string): Promise<string> {
  let text: string
  try { text = await readFile(file, 'utf8') } catch (error) {
    throw new ConfigError(`cannot read the DICOM TLS CA file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check the path and that this user may read it (--dicom-tls-ca)')
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new ConfigError(`${file} holds no PEM certificate`, 'give the CA certificate(s), or the self-signed certificates of the callers, in PEM form')
  for (const block of blocks) {
    try { void new X509Certificate(block) } catch (error) {
      throw new ConfigError(`${file}: a certificate cannot be read (${(error as Error).message})`)
    }
  }
  return text
}

/** The DICOM TLS port's certificate service (renewal and SIGHUP as for HTTPS) and trusted CAs. */
export async function openDimseTls (settings: DimseTlsSettings, options: OpenTlsOptions): Promise<DimseTls & { readonly service: TlsService }> {
  const given = settings.cert !== undefined && settings.key !== undefined ? { cert: settings.cert, key: settings.key } : undefined
  const read = given !== undefined
    ? async (): Promise<TlsMaterial> => await loadPair(given)
    : async (): Promise<TlsMaterial> => await generatedTls({
      keysDir: options.keysDir, host: settings.host, passphrase: options.passphrase, provider: options.provider, random: options.random,
      log: options.log, files: { cert: DIMSE_CERT_FILE, key: DIMSE_KEY_FILE }, clientAuth: true
    })
  const ca = settings.ca === undefined ? undefined : await loadCa(settings.ca)
  const service = new TlsService(await read(), read, given === undefined ? [] : [given.cert, given.key], options)
  return {
    service,
    ca,
    requireClientCert: settings.requireClientCert,
    get info () { return service.info },
    get secureOptions (): SecureContextOptions { return service.secureOptions },
    attach: (target) => { service.attach(target) },
    close: () => { service.close() }
  }
}

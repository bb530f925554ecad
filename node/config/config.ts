/**
 * The node's settings from, in rising precedence: defaults, a JSON config file (--config or
 * $PEERPACS_CONFIG), the environment, and flags. Every value is validated, and an error names
 * the key and where it came from ("config.json: dicom.remotes[1].port: ..."), so a typo never
 * silently turns into a default.
 */
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { rolePermissions } from '../dimse/access.ts'
import { isPersonRole, PERSON_ROLES } from '../people/roles.ts'
import { DEFAULTS } from './defaults.ts'
import type { DimseSettings, DimseTlsSettings, HttpSettings, HttpTlsSettings, MeshSettings, NodeSettings, RemoteAe } from './settings.ts'

export class ConfigError extends PeerpacsError {
  static readonly code = 'CONFIG'
  constructor (message: string, hint?: string) { super(ConfigError.code, message, hint === undefined ? {} : { hint }) }
}

export { DEFAULTS }

/** Flags and environment variables, as strings, before validation. */
export interface ConfigSources {
  readonly dataDir: string
  readonly configFile?: string
  readonly dicom?: string
  readonly http?: string
  readonly aeTitle?: string
  readonly allowAe?: string
  readonly acceptUnknownAe?: boolean
  readonly cors?: string
  /** auto, on or off (--tls). */
  readonly tls?: string
  /** PEM files (--tls-cert, --tls-key), relative to the working directory. */
  readonly tlsCert?: string
  readonly tlsKey?: string
  /** DICOM TLS: its HOST:PORT (--dicom-tls), and PEM files (--dicom-tls-cert/-key/-ca), relative to the working directory. */
  readonly dicomTls?: string
  readonly dicomTlsCert?: string
  readonly dicomTlsKey?: string
  readonly dicomTlsCa?: string
  readonly logLevel?: string
  /** Comma-separated multiaddrs to listen on. */
  readonly p2p?: string
  /** Comma-separated bootstrap multiaddrs. */
  readonly peers?: string
  readonly noMdns?: boolean
}

/** A multiaddr, or a ConfigError naming where it came from. */
export function checkMultiaddr (text: string, what: string): string {
  try {
    const addr = multiaddr(text.trim())
    return addr.toString()
  } catch (error) {
    throw new ConfigError(`${what}: "${text.slice(0, 200)}" is not a multiaddr (${(error as Error).message})`, 'for example /ip4/0.0.0.0/tcp/4001, or /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW... for a peer')
  }
}

function multiaddrList (text: string, what: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => checkMultiaddr(s, what))
}

type Json = Record<string, unknown>

function isObject (v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function closest (key: string, known: readonly string[]): string | undefined {
  return known.find((k) => k.toLowerCase() === key.toLowerCase() || k.toLowerCase().replace(/_/g, '') === key.toLowerCase().replace(/[_-]/g, ''))
}

class Reader {
  readonly #where: string
  constructor (where: string) { this.#where = where }

  fail (path: string, message: string): never {
    throw new ConfigError(`${this.#where}: ${path}: ${message}`)
  }

  object (value: unknown, path: string, known: readonly string[]): Json {
    if (!isObject(value)) this.fail(path, 'must be an object')
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const guess = closest(key, known)
        this.fail(path === '' ? key : `${path}.${key}`, `unknown key${guess === undefined ? `; known keys: ${known.join(', ')}` : ` (did you mean "${guess}"?)`}`)
      }
    }
    return value
  }

  string (value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') this.fail(path, 'must be a non-empty string')
    return value
  }

  boolean (value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false')
    return value
  }

  integer (value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) this.fail(path, `must be a whole number from ${min} to ${max}`)
    return value
  }
}

export function parseAddress (text: string, what: string): { host: string, port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim())
  if (match === null) throw new ConfigError(`${what}: "${text}" is not HOST:PORT`, 'for example 127.0.0.1:11112, or 0.0.0.0:11112 to listen on every interface')
  const host = match[1]!.replace(/^\[|\]$/g, '')
  const port = Number(match[2])
  if (port > 65535) throw new ConfigError(`${what}: port ${port} is out of range (0-65535; 0 picks a free port)`)
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) throw new ConfigError(`${what}: "${host}" is not an IP address or host name`)
  return { host, port }
}

/** AE titles: 1 to 16 characters of the default repertoire, no backslash or control characters (PS3.5 §6.2). */
export function checkAeTitle (title: string, what: string): string {
  if (title.length === 0 || title.length > 16 || /[\\\x00-\x1f\x7f-\uffff]/.test(title) || title.trim() === '') {
    throw new ConfigError(`${what}: "${title.slice(0, 40)}" is not a valid AE title (1 to 16 printable ASCII characters, no backslash)`)
  }
  return title.trim()
}

/** `AET@HOST[:PORT]`, comma-separated, for --allow-ae: full rights (store, query, retrieve). */
export function parseAllowList (text: string, what: string): RemoteAe[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry) => {
    const match = /^([^@]+)@(\[[0-9a-fA-F:.]+\]|[^:@\s]+|\*)(?::(\d{1,5}))?$/.exec(entry)
    if (match === null) throw new ConfigError(`${what}: "${entry}" is not AET@HOST or AET@HOST:PORT`)
    const port = match[3] === undefined ? undefined : Number(match[3])
    if (port !== undefined && (port < 1 || port > 65535)) throw new ConfigError(`${what}: port ${port} is out of range`)
    const host = match[2]!.replace(/^\[|\]$/g, '')
    if (host !== '*' && host !== 'localhost' && isIP(host) === 0) throw new ConfigError(`${what}: "${host}" must be an IP address, localhost or * (host names are not resolved)`)
    return { aeTitle: checkAeTitle(match[1]!, what), host: match[2]!.replace(/^\[|\]$/g, ''), ...(port === undefined ? {} : { port }), store: true, query: true, retrieve: true }
  })
}

/** A SHA-256 certificate fingerprint, with or without colons, any case: as `AB:CD:...` (how Node and openssl show it). */
export function normaliseFingerprint (text: string): string | undefined {
  const hex = text.trim().replace(/^sha256[:=]/i, '').replace(/[:\s]/g, '')
  return /^[0-9a-fA-F]{64}$/.test(hex) ? hex.toUpperCase().match(/../g)!.join(':') : undefined
}

/** A remote's `tls` ("required" | "optional"; true and false say the same) and `certFingerprint`. */
function remoteTls (r: Reader, o: Json, p: string): Pick<RemoteAe, 'tls' | 'certFingerprint'> {
  let tls: RemoteAe['tls']
  if (o.tls === true || o.tls === 'required') tls = 'required'
  else if (o.tls === false || o.tls === 'optional') tls = 'optional'
  else if (o.tls !== undefined) r.fail(`${p}.tls`, 'must be "required" (only over the DICOM TLS port; a C-MOVE to it goes over TLS) or "optional"')
  let certFingerprint: string | undefined
  if (o.certFingerprint !== undefined) {
    const text = r.string(o.certFingerprint, `${p}.certFingerprint`)
    certFingerprint = normaliseFingerprint(text)
    if (certFingerprint === undefined) r.fail(`${p}.certFingerprint`, `"${text.slice(0, 120)}" is not a SHA-256 fingerprint (64 hex digits, colons optional; openssl x509 -noout -fingerprint -sha256 -in CERT)`)
    if (tls === 'optional') r.fail(p, 'a certFingerprint needs TLS: remove "tls": "optional" (a pinned AE is always refused on the plain port)')
    tls = 'required'
  }
  return { ...(tls === undefined ? {} : { tls }), ...(certFingerprint === undefined ? {} : { certFingerprint }) }
}

function remotesFrom (r: Reader, value: unknown, path: string): RemoteAe[] {
  if (!Array.isArray(value)) r.fail(path, 'must be a list')
  return value.map((item, i) => {
    const p = `${path}[${i}]`
    const o = r.object(item, p, ['aeTitle', 'host', 'port', 'role', 'store', 'query', 'retrieve', 'tls', 'certFingerprint'])
    let aeTitle: string
    try { aeTitle = checkAeTitle(r.string(o.aeTitle, `${p}.aeTitle`), `${p}.aeTitle`) } catch (e) { r.fail(`${p}.aeTitle`, (e as Error).message.replace(/^.*?: /, '')) }
    const host = r.string(o.host, `${p}.host`)
    // The allow-list compares the peer's address; host names are not resolved per association.
    if (host !== '*' && host !== 'localhost' && isIP(host) === 0) r.fail(`${p}.host`, `"${host}" must be an IP address, "localhost" or "*" (host names are not resolved)`)
    const port = o.port === undefined ? undefined : r.integer(o.port, `${p}.port`, 1, 65535)
    if (o.role !== undefined) {
      // A role decides the services (the role x service table, docs/access-control.md); flags beside it would contradict it.
      const role = r.string(o.role, `${p}.role`)
      if (!isPersonRole(role)) r.fail(`${p}.role`, `"${role.slice(0, 40)}" is not a role; one of ${PERSON_ROLES.join(', ')} (a modality: technologist; a workstation: radiologist)`)
      const flags = ['store', 'query', 'retrieve'].filter((k) => o[k] !== undefined)
      if (flags.length > 0) r.fail(p, `give either "role" or "store"/"query"/"retrieve", not both (found role "${role}" and ${flags.map((k) => `"${k}"`).join(', ')}): the role decides what the AE may do; remove the flags, or the role`)
      return { aeTitle, host, ...(port === undefined ? {} : { port }), role, ...rolePermissions(role), ...remoteTls(r, o, p) }
    }
    return {
      aeTitle,
      host,
      ...(port === undefined ? {} : { port }),
      ...remoteTls(r, o, p),
      store: o.store === undefined ? true : r.boolean(o.store, `${p}.store`),
      query: o.query === undefined ? true : r.boolean(o.query, `${p}.query`),
      retrieve: o.retrieve === undefined ? true : r.boolean(o.retrieve, `${p}.retrieve`)
    }
  })
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

function logLevelOf (text: string, what: string): NodeSettings['logLevel'] {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new ConfigError(`${what}: "${text}" is not a log level (${LOG_LEVELS.join(', ')})`)
  return text as NodeSettings['logLevel']
}

async function readConfigFile (path: string): Promise<Json> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return JSON.parse(text) as Json
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`)
  }
}

const TLS_MODES = ['auto', 'on', 'off'] as const

function tlsModeOf (text: string, what: string): HttpTlsSettings['mode'] {
  if (!(TLS_MODES as readonly string[]).includes(text)) throw new ConfigError(`${what}: "${text.slice(0, 40)}" is not a TLS mode (${TLS_MODES.join(', ')})`, 'auto: HTTPS unless the HTTP address is loopback; on: always HTTPS; off: plain HTTP (behind a proxy that terminates TLS)')
  return text as HttpTlsSettings['mode']
}

/**
 * `http.tls` ({ "mode": "auto|on|off", "cert": FILE, "key": FILE }, files relative to the config
 * file) under --tls, --tls-cert and --tls-key (relative to the working directory). A certificate
 * needs its key and the other way round; a certificate with mode off contradicts itself.
 */
function tlsFrom (r: Reader, value: unknown, sources: ConfigSources): HttpTlsSettings {
  const t = value === undefined ? {} : r.object(value, 'http.tls', ['mode', 'cert', 'key'])
  const base = sources.configFile === undefined ? process.cwd() : dirname(resolve(sources.configFile))
  const fromFile = (v: unknown, key: string): string | undefined => v === undefined ? undefined : resolve(base, r.string(v, `http.tls.${key}`))
  const mode = sources.tls !== undefined ? tlsModeOf(sources.tls, '--tls') : t.mode === undefined ? DEFAULTS.httpTls : tlsModeOf(r.string(t.mode, 'http.tls.mode'), `${sources.configFile}: http.tls.mode`)
  const cert = sources.tlsCert !== undefined ? resolve(sources.tlsCert) : fromFile(t.cert, 'cert')
  const key = sources.tlsKey !== undefined ? resolve(sources.tlsKey) : fromFile(t.key, 'key')
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(`a TLS ${cert === undefined ? 'key' : 'certificate'} was given (${cert ?? key}) without its ${cert === undefined ? 'certificate' : 'key'}`, 'give both --tls-cert FILE and --tls-key FILE (or http.tls.cert and http.tls.key), or neither for a generated certificate')
  }
  if (mode === 'off' && cert !== undefined) throw new ConfigError(`TLS is off, but a certificate was given (${cert})`, 'remove --tls off (or http.tls.mode "off") to serve HTTPS with it, or remove the certificate')
  return { mode, ...(cert === undefined ? {} : { cert, key: key! }) }
}

/**
 * `dicom.tls` ({ "listen": HOST:PORT, "cert", "key", "ca": FILE, "requireClientCert": bool }, files
 * relative to the config file) under --dicom-tls, --dicom-tls-cert, --dicom-tls-key, --dicom-tls-ca.
 * Undefined: no TLS port (the default). A certificate needs its key; requireClientCert needs a CA;
 * a file given without a TLS address is refused rather than ignored.
 */
function dimseTlsFrom (r: Reader, value: unknown, sources: ConfigSources, plain: { host: string, port: number }): DimseTlsSettings | undefined {
  const t = value === undefined ? {} : r.object(value, 'dicom.tls', ['listen', 'cert', 'key', 'ca', 'requireClientCert'])
  const base = sources.configFile === undefined ? process.cwd() : dirname(resolve(sources.configFile))
  const fromFile = (v: unknown, key: string): string | undefined => v === undefined ? undefined : resolve(base, r.string(v, `dicom.tls.${key}`))
  const cert = sources.dicomTlsCert !== undefined ? resolve(sources.dicomTlsCert) : fromFile(t.cert, 'cert')
  const key = sources.dicomTlsKey !== undefined ? resolve(sources.dicomTlsKey) : fromFile(t.key, 'key')
  const ca = sources.dicomTlsCa !== undefined ? resolve(sources.dicomTlsCa) : fromFile(t.ca, 'ca')
  const requireClientCert = t.requireClientCert === undefined ? false : r.boolean(t.requireClientCert, 'dicom.tls.requireClientCert')
  const listen = sources.dicomTls !== undefined
    ? parseAddress(sources.dicomTls, '--dicom-tls')
    : t.listen === undefined ? undefined : parseAddress(r.string(t.listen, 'dicom.tls.listen'), `${sources.configFile}: dicom.tls.listen`)
  if (listen === undefined) {
    const given = cert ?? key ?? ca
    if (given !== undefined || value !== undefined) throw new ConfigError(`DICOM TLS settings were given${given === undefined ? '' : ` (${given})`} but no DICOM TLS address`, 'add --dicom-tls HOST:PORT (or dicom.tls.listen), e.g. 0.0.0.0:2762, the port registered for DICOM TLS')
    return undefined
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(`a DICOM TLS ${cert === undefined ? 'key' : 'certificate'} was given (${cert ?? key}) without its ${cert === undefined ? 'certificate' : 'key'}`, 'give both --dicom-tls-cert FILE and --dicom-tls-key FILE (or dicom.tls.cert and dicom.tls.key), or neither for a certificate made by the node')
  }
  if (requireClientCert && ca === undefined) throw new ConfigError('dicom.tls.requireClientCert is on but no CA is given to check client certificates against', 'give --dicom-tls-ca FILE (or dicom.tls.ca): PEM certificates of the CA, or of each self-signed caller')
  if (listen.port !== 0 && listen.port === plain.port && (listen.host === plain.host || ['0.0.0.0', '::'].includes(listen.host) || ['0.0.0.0', '::'].includes(plain.host))) {
    throw new ConfigError(`the DICOM TLS address ${listen.host}:${listen.port} is the plain DIMSE port too`, 'give DICOM TLS its own port, e.g. --dicom-tls 0.0.0.0:2762')
  }
  return { ...listen, ...(cert === undefined ? {} : { cert, key: key! }), ...(ca === undefined ? {} : { ca }), requireClientCert }
}

export async function loadSettings (sources: ConfigSources): Promise<NodeSettings> {
  const file = sources.configFile === undefined ? {} : await readConfigFile(sources.configFile)
  const r = new Reader(sources.configFile ?? 'config')
  const top = r.object(file, '', ['dicom', 'http', 'mesh', 'logLevel'])
  const m = top.mesh === undefined ? {} : r.object(top.mesh, 'mesh', ['listen', 'peers', 'mdns'])
  const d = top.dicom === undefined ? {} : r.object(top.dicom, 'dicom', ['listen', 'aeTitle', 'acceptUnknown', 'maxPduLength', 'idleTimeout', 'artimTimeout', 'maxConnectionsPerAddress', 'remotes', 'tls'])
  const h = top.http === undefined ? {} : r.object(top.http, 'http', ['listen', 'cors', 'maxStowBytes', 'headersTimeout', 'requestTimeout', 'idleTimeout', 'keepAliveTimeout', 'maxConnectionsPerAddress', 'tls'])

  const dicomAddress = sources.dicom !== undefined
    ? parseAddress(sources.dicom, '--dicom')
    : parseAddress(d.listen === undefined ? DEFAULTS.dicom : r.string(d.listen, 'dicom.listen'), d.listen === undefined ? 'default' : `${sources.configFile}: dicom.listen`)
  const httpAddress = sources.http !== undefined
    ? parseAddress(sources.http, '--http')
    : parseAddress(h.listen === undefined ? DEFAULTS.http : r.string(h.listen, 'http.listen'), h.listen === undefined ? 'default' : `${sources.configFile}: http.listen`)
  const aeTitle = sources.aeTitle !== undefined
    ? checkAeTitle(sources.aeTitle, '--ae-title')
    : d.aeTitle === undefined ? DEFAULTS.aeTitle : checkAeTitle(r.string(d.aeTitle, 'dicom.aeTitle'), `${sources.configFile}: dicom.aeTitle`)
  const remotes = [
    ...(d.remotes === undefined ? [] : remotesFrom(r, d.remotes, 'dicom.remotes')),
    ...(sources.allowAe === undefined ? [] : parseAllowList(sources.allowAe, '--allow-ae'))
  ]
  const dimse: DimseSettings = {
    ...dicomAddress,
    aeTitle,
    remotes,
    acceptUnknown: sources.acceptUnknownAe === true || (d.acceptUnknown !== undefined && r.boolean(d.acceptUnknown, 'dicom.acceptUnknown')),
    maxPduLength: d.maxPduLength === undefined ? DEFAULTS.maxPduLength : r.integer(d.maxPduLength, 'dicom.maxPduLength', 4096, 16 * 1024 * 1024),
    idleTimeout: d.idleTimeout === undefined ? DEFAULTS.idleTimeout : r.integer(d.idleTimeout, 'dicom.idleTimeout', 1, 86400),
    artimTimeout: d.artimTimeout === undefined ? DEFAULTS.artimTimeout : r.integer(d.artimTimeout, 'dicom.artimTimeout', 1, 3600),
    maxConnectionsPerAddress: d.maxConnectionsPerAddress === undefined ? DEFAULTS.maxConnectionsPerAddress : r.integer(d.maxConnectionsPerAddress, 'dicom.maxConnectionsPerAddress', 1, 100_000),
    ...((tls) => tls === undefined ? {} : { tls })(dimseTlsFrom(r, d.tls, sources, dicomAddress))
  }
  const needsTls = dimse.remotes.find((remote) => remote.tls === 'required')
  if (needsTls !== undefined && dimse.tls === undefined) {
    throw new ConfigError(`the remote AE ${needsTls.aeTitle} needs DICOM TLS${needsTls.certFingerprint === undefined ? '' : ' (it has a certFingerprint)'}, but the node has no DICOM TLS port`, 'add --dicom-tls HOST:PORT (or dicom.tls.listen), or remove its "tls"/"certFingerprint"')
  }
  let corsOrigins: string[] = []
  if (sources.cors !== undefined) corsOrigins = sources.cors.split(',').map((s) => s.trim()).filter((s) => s !== '')
  else if (h.cors !== undefined) {
    const list: unknown = h.cors
    if (!Array.isArray(list)) r.fail('http.cors', 'must be a list of origins')
    corsOrigins = (list as unknown[]).map((o: unknown, i: number) => r.string(o, `http.cors[${i}]`))
  }
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`CORS origin "${origin}" is not an origin like https://viewer.example.org (scheme and host, no path), or *`)
  }
  const http: HttpSettings = {
    ...httpAddress,
    tls: tlsFrom(r, h.tls, sources),
    corsOrigins,
    maxStowBytes: h.maxStowBytes === undefined ? DEFAULTS.maxStowBytes : r.integer(h.maxStowBytes, 'http.maxStowBytes', 1024, Number.MAX_SAFE_INTEGER),
    headersTimeout: h.headersTimeout === undefined ? DEFAULTS.httpHeadersTimeout : r.integer(h.headersTimeout, 'http.headersTimeout', 1, 3600),
    requestTimeout: h.requestTimeout === undefined ? DEFAULTS.httpRequestTimeout : r.integer(h.requestTimeout, 'http.requestTimeout', 0, 7 * 86400),
    idleTimeout: h.idleTimeout === undefined ? DEFAULTS.httpIdleTimeout : r.integer(h.idleTimeout, 'http.idleTimeout', 1, 86400),
    keepAliveTimeout: h.keepAliveTimeout === undefined ? DEFAULTS.httpKeepAliveTimeout : r.integer(h.keepAliveTimeout, 'http.keepAliveTimeout', 1, 3600),
    maxConnectionsPerAddress: h.maxConnectionsPerAddress === undefined ? DEFAULTS.httpMaxConnectionsPerAddress : r.integer(h.maxConnectionsPerAddress, 'http.maxConnectionsPerAddress', 1, 100_000)
  }
  if (http.requestTimeout !== 0 && http.headersTimeout! > http.requestTimeout!) {
    throw new ConfigError(`http.headersTimeout (${http.headersTimeout} s) is longer than http.requestTimeout (${http.requestTimeout} s); the headers are part of the request`, 'make headersTimeout shorter, or requestTimeout 0 (no limit)')
  }
  const logLevel = sources.logLevel !== undefined
    ? logLevelOf(sources.logLevel, '--log-level')
    : top.logLevel === undefined ? DEFAULTS.logLevel : logLevelOf(r.string(top.logLevel, 'logLevel'), `${sources.configFile}: logLevel`)
  const listOf = (value: unknown, path: string): string[] => {
    if (!Array.isArray(value)) r.fail(path, 'must be a list of multiaddrs')
    return (value as unknown[]).map((v, i) => checkMultiaddr(r.string(v, `${path}[${i}]`), `${sources.configFile}: ${path}[${i}]`))
  }
  const mesh: MeshSettings = {
    listen: sources.p2p !== undefined ? multiaddrList(sources.p2p, '--p2p') : m.listen !== undefined ? listOf(m.listen, 'mesh.listen') : [DEFAULTS.p2p],
    peers: [...(m.peers === undefined ? [] : listOf(m.peers, 'mesh.peers')), ...(sources.peers === undefined ? [] : multiaddrList(sources.peers, '--peer'))],
    mdns: sources.noMdns === true ? false : m.mdns === undefined ? true : r.boolean(m.mdns, 'mesh.mdns')
  }
  if (mesh.listen.length === 0) throw new ConfigError('--p2p: at least one listen address is needed')
  return { dataDir: sources.dataDir, dimse, http, mesh, logLevel }
}

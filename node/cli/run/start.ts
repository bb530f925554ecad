/** What `peerpacs start` does (its options and help: commands/start.ts). */
import { loadSettings } from '../../config/config.ts'
import { createLogger } from '../../logging/logger.ts'
import { runNode } from '../../daemon/node.ts'
import { loadPair } from '../../daemon/tls.ts'
import { loadCa } from '../../daemon/dimse-tls.ts'
import { resolvePassphrase } from '../../keys/passphrase.ts'
import { DataDirError, dataDirLayout, readDataDirMeta } from '../../store/data-dir.ts'
import { EXIT } from '../exit-codes.ts'
import { cliChannel } from '../channel.ts'
import { init } from '../commands/init.ts'
import { UsageError, type CommandContext } from '../command.ts'

/** A switch: its flag, or its variable set to 1/true/yes (0/false/no/empty: off; anything else is refused). */
function switchOrEnv (values: Record<string, string | boolean | undefined>, flag: string, env: NodeJS.ProcessEnv, variable: string): boolean {
  if (values[flag] === true) return true
  const e = (env[variable] ?? '').trim().toLowerCase()
  if (['', '0', 'false', 'no'].includes(e)) return false
  if (['1', 'true', 'yes'].includes(e)) return true
  throw new UsageError(`$${variable} is "${String(env[variable]).slice(0, 40)}"; expected 1 or 0 (true/false, yes/no)`)
}

function flagOrEnv (values: Record<string, string | boolean | undefined>, flag: string, env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const v = values[flag]
  if (typeof v === 'string') return v
  const e = env[variable]
  return e === undefined || e === '' ? undefined : e
}

export async function run (context: CommandContext): Promise<number> {
  const { values, env, out, dataDir } = context
  const settings = await loadSettings({
    dataDir,
    configFile: flagOrEnv(values, 'config', env, 'PEERPACS_CONFIG'),
    dicom: flagOrEnv(values, 'dicom', env, 'PEERPACS_DICOM'),
    http: flagOrEnv(values, 'http', env, 'PEERPACS_HTTP'),
    tls: flagOrEnv(values, 'tls', env, 'PEERPACS_TLS'),
    tlsCert: flagOrEnv(values, 'tls-cert', env, 'PEERPACS_TLS_CERT'),
    tlsKey: flagOrEnv(values, 'tls-key', env, 'PEERPACS_TLS_KEY'),
    dicomTls: flagOrEnv(values, 'dicom-tls', env, 'PEERPACS_DICOM_TLS'),
    dicomTlsCert: flagOrEnv(values, 'dicom-tls-cert', env, 'PEERPACS_DICOM_TLS_CERT'),
    dicomTlsKey: flagOrEnv(values, 'dicom-tls-key', env, 'PEERPACS_DICOM_TLS_KEY'),
    dicomTlsCa: flagOrEnv(values, 'dicom-tls-ca', env, 'PEERPACS_DICOM_TLS_CA'),
    aeTitle: flagOrEnv(values, 'ae-title', env, 'PEERPACS_AE_TITLE'),
    allowAe: flagOrEnv(values, 'allow-ae', env, 'PEERPACS_ALLOW_AE'),
    acceptUnknownAe: switchOrEnv(values, 'accept-unknown-ae', env, 'PEERPACS_ACCEPT_UNKNOWN_AE'),
    cors: flagOrEnv(values, 'cors', env, 'PEERPACS_CORS'),
    logLevel: flagOrEnv(values, 'log-level', env, 'PEERPACS_LOG_LEVEL'),
    p2p: flagOrEnv(values, 'p2p', env, 'PEERPACS_P2P'),
    peers: flagOrEnv(values, 'peer', env, 'PEERPACS_PEERS'),
    noMdns: switchOrEnv(values, 'no-mdns', env, 'PEERPACS_NO_MDNS')
  })
  // The operator's certificate and key are checked before a fresh data dir is initialised or
  // anything listens (a bad pair is a config error, exit 2); the node reads them again to serve.
  if (settings.http.tls?.cert !== undefined && settings.http.tls.key !== undefined) await loadPair({ cert: settings.http.tls.cert, key: settings.http.tls.key })
  const dimseTls = settings.dimse.tls
  if (dimseTls?.cert !== undefined && dimseTls.key !== undefined) await loadPair({ cert: dimseTls.cert, key: dimseTls.key })
  if (dimseTls?.ca !== undefined) await loadCa(dimseTls.ca)
  try {
    await readDataDirMeta(dataDirLayout(dataDir))
  } catch (error) {
    if (!(error instanceof DataDirError) || error.code !== 'NOT_INITIALISED') throw error
    const name = flagOrEnv(values, 'name', env, 'PEERPACS_ORG_NAME')
    const code = await init.run({ ...context, values: { ...(name === undefined ? {} : { name }), 'passphrase-file': values['passphrase-file'] } })
    if (code !== EXIT.OK) return code
    out.line('')
  }
  const log = createLogger({ level: settings.logLevel })
  if (settings.dimse.acceptUnknown) log.warn('dimse.accept_unknown', { note: 'any calling AE is accepted: the AE allow-list is off' })
  const passphraseFile = values['passphrase-file']
  const passphrase = await resolvePassphrase(typeof passphraseFile === 'string' ? passphraseFile : undefined, env)
  // Signals are caught before anything listens, so a stop that arrives during start-up is a
  // clean stop as soon as the node is up, never a kill halfway through.
  let node: Awaited<ReturnType<typeof runNode>> | undefined
  let stopRequested: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    stopRequested = signal
    if (node !== undefined) void node.stop(signal)
    // A second signal while stopping: the operator insists. Writes are crash-safe; leave now.
    process.once(signal, () => { log.warn('node.stop.forced', { signal }); process.exit(EXIT.INTERNAL) })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    node = await runNode({ settings, passphrase, log, controlChannel: (handle) => cliChannel(context.commands, handle, log.child({ component: 'cli' })) })
  } catch (error) {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    throw error
  }
  const tls = node.tls?.info
  out.line(`peerpacs node running: DIMSE ${settings.dimse.aeTitle}@${settings.dimse.host}:${node.dicomPort}, HTTP ${tls === undefined ? 'http' : 'https'}://${settings.http.host}:${node.httpPort}/dicomweb (Ctrl-C stops)`)
  if (node.dicomTls !== undefined) {
    const info = node.dicomTls.service.info
    out.line(`DICOM TLS ${settings.dimse.aeTitle}@${settings.dimse.tls!.host}:${node.dicomTls.port} (TLS 1.2+, BCP 195), certificate ${info.source === 'generated' ? '(self-signed, made by this node) ' : ''}${info.certFile}`)
    out.line(`  SHA-256 fingerprint ${info.fingerprint}${settings.dimse.tls!.requireClientCert ? '; client certificates required' : ''}`)
  }
  if (tls !== undefined) {
    out.line(`HTTPS certificate (${tls.source === 'generated' ? 'self-signed, made by this node' : 'from the files given'}) ${tls.certFile}, valid until ${tls.notAfter}`)
    out.line(`  SHA-256 fingerprint ${tls.fingerprint}`)
    out.line('  plain http:// requests to this port are redirected to https://')
  }
  out.record({ type: 'started', dicomPort: node.dicomPort, ...(node.dicomTls === undefined ? {} : { dicomTlsPort: node.dicomTls.port, dicomTlsFingerprint: node.dicomTls.service.info.fingerprint }), httpPort: node.httpPort, httpScheme: tls === undefined ? 'http' : 'https', ...(tls === undefined ? {} : { tlsFingerprint: tls.fingerprint }), aeTitle: settings.dimse.aeTitle, nodeId: node.archive.meta.nodeId })
  if (stopRequested !== undefined) void node.stop(stopRequested)
  await node.stopped
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  return EXIT.OK
}

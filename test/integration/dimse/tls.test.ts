/**
 * DICOM TLS (issue 19, PS3.15 Annex B / BCP 195) with dcmtk's own tools: storescu +tls stores on
 * the node's TLS port and the stored instance is byte-identical on export; findscu +tls finds it;
 * movescu (which has no TLS in dcmtk: it asks on the plain port) has it sent to a storescp +tls destination (its own self-signed certificate, and asking for
 * the node's) over TLS, trusted by CA and by pinned fingerprint, and refused when the pin is wrong;
 * plain DICOM on the TLS port fails cleanly and the node goes on; an AE with tls "required" is
 * refused on the plain port (A-ASSOCIATE-RJ, audited 110113) and served on the TLS port; with
 * requireClientCert a caller without a certificate is refused at the handshake (audited), one with
 * a trusted certificate is served; an AE pinned to a certificate is refused with another. Every
 * process is stopped by PID (runTool/startStorescp kill theirs; the receiver here too).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { connect as connectTcp } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { EVENT_ID, type AuditRecord } from '../../../protocol/audit/index.ts'
import { readAuditTrail } from '../../../node/audit/audit-trail.ts'
import type { DimseTlsSettings, RemoteAe } from '../../../node/config/settings.ts'
import { DIMSE_CERT_FILE, openDimseTls } from '../../../node/daemon/dimse-tls.ts'
import { parseFileMeta } from '../../../node/dicom/file-meta.ts'
import { createLogger } from '../../../node/logging/logger.ts'
import { provider, random } from '../../../node/runtime.ts'
import { spawnCli } from '../../helpers/cli.ts'
import { startNode } from '../../helpers/node-process.ts'
import { freePort, NODE_AE, remote, runTool, startDimseNode, startStorescp, type DimseNode } from '../../helpers/dimse-node.ts'
import { tempDir } from '../../helpers/files.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

const HAS_TLS = /\+tls/.test(spawnSync('storescu', ['--help'], { encoding: 'utf8' }).stdout ?? '')
const skip = HAS_TLS ? false : 'this dcmtk build has no TLS (storescu --help lists no +tls)'

interface Pair { readonly key: string, readonly cert: string, readonly fingerprint: string }

/** A self-signed P-256 pair made by openssl, as an operator or a modality vendor would. */
async function selfSigned (dir: string, name: string): Promise<Pair> {
  const key = join(dir, `${name}-key.pem`)
  const cert = join(dir, `${name}-cert.pem`)
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return { key, cert, fingerprint: new X509Certificate(await readFile(cert)).fingerprint256 }
}

interface TlsNode extends DimseNode { readonly tlsPort: number, readonly certFile: string, readonly fingerprint: string }

async function startTlsNode (t: TestContext, remotes: RemoteAe[], tls: Partial<DimseTlsSettings> = {}): Promise<TlsNode> {
  const settings: DimseTlsSettings = { host: '127.0.0.1', port: 0, requireClientCert: false, ...tls }
  const node = await startDimseNode(t, { remotes, tls: settings })
  const material = await openDimseTls(settings, { keysDir: join(node.dir, 'data', 'keys'), passphrase: undefined, provider, random, log: createLogger({ level: 'error', write: () => {} }) })
  const tlsPort = await node.server.listenTls(material)
  return { ...node, tlsPort, certFile: join(node.dir, 'data', 'keys', DIMSE_CERT_FILE), fingerprint: material.info.fingerprint }
}

/** dcmtk's TLS options: our key and certificate, trusting the node's certificate. */
function tlsArgs (pair: Pair, trust: string): string[] {
  return ['+tls', pair.key, pair.cert, '-pw', '+cf', trust]
}

async function alerts (node: DimseNode): Promise<AuditRecord[]> {
  await node.server.close()
  await node.pacs.archive.auditor.flush()
  return (await readAuditTrail(node.pacs.archive)).map((e) => e.record!).filter((r) => r.eventId === EVENT_ID.securityAlert)
}

/** A storescp +tls destination: its own certificate, asking for the node's (trusted by `trust`). */
async function startTlsStorescp (t: TestContext, aeTitle: string, port: number, pair: Pair, trust: string): Promise<{ port: number, dir: string, output: () => string }> {
  return await startStorescp(t, aeTitle, tlsArgs(pair, trust), port)
}

async function receivedDatasets (dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const name of await readdir(dir)) {
    const file = await readFile(join(dir, name))
    const meta = parseFileMeta(file, file.length)
    if (meta !== undefined) out.set(meta.mediaStorageSopInstanceUid ?? name, file.subarray(meta.metaEnd))
  }
  return out
}

test('storescu +tls stores on the TLS port (byte-identical on export), findscu +tls finds it, movescu sends it to a storescp +tls destination over TLS', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-certs-')
  const client = await selfSigned(dir, 'modality')
  const dest = await selfSigned(dir, 'dest')
  const destPort = await freePort()
  const node = await startTlsNode(t, [
    remote('STORESCU', { tls: 'required' }), remote('FINDSCU', { tls: 'required' }), remote('MOVESCU'),
    remote('DEST', { port: destPort, tls: 'required', store: false, query: false, retrieve: false })
  ], { ca: dest.cert })
  // storescp trusts the node's certificate (made when the TLS port opened) and asks for it.
  const storescp = await startTlsStorescp(t, 'DEST', destPort, dest, node.certFile)

  // Explicit VR little endian: the syntax storescu proposes first, so it sends the file's dataset unconverted.
  const instance = syntheticStudy({ seed: 1901, accessionNumber: 'ACCTLS' }).find((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1')
  const file = join(dir, 'one.dcm')
  await writeFile(file, instance!.bytes)

  const store = await runTool(t, 'storescu', [...tlsArgs(client, node.certFile), '-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(node.tlsPort), file])
  assert.equal(store.code, 0, store.stdout + store.stderr + node.logs.join(''))
  const found = await node.pacs.findInstance(instance!.sopInstanceUid)
  assert.ok(found !== undefined, 'stored')
  const parts: Uint8Array[] = []
  for await (const p of node.pacs.read(found)) parts.push(p)
  const exported = Buffer.concat(parts)
  const meta = parseFileMeta(exported, exported.length)!
  // What storescu puts on the wire for this file (it re-encodes a little), seen by a plain storescp writing exactly what it reads.
  const wire = await startStorescp(t, 'WIRE')
  const plain = await runTool(t, 'storescu', ['-aet', 'STORESCU', '-aec', 'WIRE', '127.0.0.1', String(wire.port), file])
  assert.equal(plain.code, 0, plain.stdout + plain.stderr)
  const sent = (await receivedDatasets(wire.dir)).get(instance!.sopInstanceUid)
  assert.ok(sent !== undefined && sent.equals(exported.subarray(meta.metaEnd)), 'the dataset exported is byte for byte what storescu sent over TLS')
  assert.match(node.logs.join(''), /"event":"dimse\.association\.accepted".*"callingAe":"STORESCU"/)

  const find = await runTool(t, 'findscu', [...tlsArgs(client, node.certFile), '-S', '-aet', 'FINDSCU', '-aec', NODE_AE, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'AccessionNumber=ACCTLS', '-k', 'StudyInstanceUID', '127.0.0.1', String(node.tlsPort)])
  assert.equal(find.code, 0, find.stdout + find.stderr)
  assert.ok((find.stdout + find.stderr).includes(instance!.studyInstanceUid), find.stdout + find.stderr)

  // dcmtk's movescu has no TLS: it asks on the plain port; the node's association to DEST is TLS.
  const move = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${instance!.studyInstanceUid}`, '127.0.0.1', String(node.port)])
  assert.equal(move.code, 0, move.stdout + move.stderr + storescp.output())
  assert.match(move.stdout + move.stderr, /Received Final Move Response \(Success\)/, move.stdout + move.stderr + storescp.output() + node.logs.join(''))
  const got = await receivedDatasets(storescp.dir)
  assert.ok(got.get(instance!.sopInstanceUid)?.equals(exported.subarray(meta.metaEnd)), 'the destination received the stored bytes')
  assert.match(storescp.output(), /Transport connection: TLS over TCP\/IP/, 'the node reached storescp over TLS')
  assert.match(storescp.output(), /Peer X\.509v3 Certificate/, 'and showed it its certificate (storescp requires one)')
})

const echo = async (t: TestContext, calling: string, port: number, tls: string[] = []): Promise<{ ok: boolean, out: string }> => {
  const r = await runTool(t, 'echoscu', ['-v', ...tls, '-aet', calling, '-aec', NODE_AE, '127.0.0.1', String(port)])
  return { ok: r.code === 0, out: r.stdout + r.stderr }
}

const said = (records: AuditRecord[], pattern: RegExp): AuditRecord[] => records.filter((r) => pattern.test(r.outcomeDescription ?? ''))

test('plain DICOM on the TLS port fails cleanly and the node goes on; an AE with tls "required" is refused on the plain port and served on the TLS port; both audited 110113', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-certs-')
  const client = await selfSigned(dir, 'modality')
  const node = await startTlsNode(t, [remote('STORESCU'), remote('SECURE', { tls: 'required' }), remote('ECHOSCU')])
  const study = syntheticStudy({ seed: 1902, accessionNumber: 'ACCPLAIN' })
  const file = join(dir, 'one.dcm')
  await writeFile(file, study[0]!.bytes)

  const plainOnTls = await runTool(t, 'storescu', ['-aet', 'STORESCU', '-aec', NODE_AE, '127.0.0.1', String(node.tlsPort), file])
  assert.notEqual(plainOnTls.code, 0, 'a plain storescu cannot associate on the TLS port')
  assert.equal(await node.pacs.findInstance(study[0]!.sopInstanceUid), undefined, 'nothing stored')
  assert.ok((await echo(t, 'ECHOSCU', node.tlsPort, tlsArgs(client, node.certFile))).ok, 'the TLS port still serves')
  assert.ok((await echo(t, 'ECHOSCU', node.port)).ok, 'the plain port still serves')

  const refused = await echo(t, 'SECURE', node.port)
  assert.equal(refused.ok, false)
  assert.match(refused.out, /Association Rejected[\s\S]*Calling AE Title Not Recognized/i, refused.out)
  const served = await echo(t, 'SECURE', node.tlsPort, tlsArgs(client, node.certFile))
  assert.ok(served.ok, served.out)
  const logs = node.logs.join('')
  assert.match(logs, /"event":"dimse\.tls\.handshake-refused".*"detail":"not TLS \(plain DICOM on the TLS port\?\)"/)
  assert.match(logs, /"event":"dimse\.association\.rejected".*"callingAe":"SECURE".*"hint":"SECURE has \\"tls\\": \\"required\\"/)

  const records = await alerts(node)
  assert.equal(said(records, /^TLS connection refused at the handshake \(not TLS/).length, 1, records.map((r) => r.outcomeDescription).join(' | '))
  const tlsRequired = said(records, /must use DICOM TLS/)
  assert.equal(tlsRequired.length, 1)
  assert.ok(tlsRequired[0]!.participants.some((p) => p.userId === 'SECURE'))
})

test('requireClientCert: no certificate or an untrusted one is refused at the handshake (audited); a certificate from the CA is served', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-certs-')
  const trusted = await selfSigned(dir, 'trusted')
  const stranger = await selfSigned(dir, 'stranger')
  const node = await startTlsNode(t, [remote('ECHOSCU')], { requireClientCert: true, ca: trusted.cert })

  const anonymous = await echo(t, 'ECHOSCU', node.tlsPort, ['+tla', '+cf', node.certFile])
  assert.equal(anonymous.ok, false, anonymous.out)
  const untrusted = await echo(t, 'ECHOSCU', node.tlsPort, tlsArgs(stranger, node.certFile))
  assert.equal(untrusted.ok, false, untrusted.out)
  const good = await echo(t, 'ECHOSCU', node.tlsPort, tlsArgs(trusted, node.certFile))
  assert.ok(good.ok, good.out + node.logs.join(''))

  const records = said(await alerts(node), /^TLS connection refused at the handshake/)
  const descriptions = records.map((r) => r.outcomeDescription).join(' | ')
  assert.ok(records.some((r) => /no client certificate/.test(r.outcomeDescription ?? '')), descriptions)
  assert.ok(records.some((r) => /not trusted/.test(r.outcomeDescription ?? '')), descriptions)
})

test('an AE pinned to a certificate: refused with another one (A-ASSOCIATE-RJ, audited), served with its own', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-certs-')
  const own = await selfSigned(dir, 'own')
  const other = await selfSigned(dir, 'other')
  const node = await startTlsNode(t, [remote('PINNED', { certFingerprint: own.fingerprint, tls: 'required' })])

  const wrong = await echo(t, 'PINNED', node.tlsPort, tlsArgs(other, node.certFile))
  assert.equal(wrong.ok, false)
  assert.match(wrong.out, /Association Rejected[\s\S]*Calling AE Title Not Recognized/i, wrong.out)
  const right = await echo(t, 'PINNED', node.tlsPort, tlsArgs(own, node.certFile))
  assert.ok(right.ok, right.out)
  const records = said(await alerts(node), /client certificate missing or not the one pinned/)
  assert.equal(records.length, 1)
  assert.match(records[0]!.outcomeDescription ?? '', new RegExp(`presented ${other.fingerprint.slice(0, 20)}`))
})

test('a TLS C-MOVE destination pinned by fingerprint receives; with a wrong pin nothing is sent and the move fails', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-certs-')
  const dest = await selfSigned(dir, 'dest')
  const impostor = await selfSigned(dir, 'impostor')
  const [goodPort, badPort] = [await freePort(), await freePort()]
  const node = await startTlsNode(t, [
    remote('MOVESCU'),
    remote('PINNED_DEST', { port: goodPort, certFingerprint: dest.fingerprint, tls: 'required', store: false, query: false, retrieve: false }),
    remote('WRONG_PIN', { port: badPort, certFingerprint: dest.fingerprint, tls: 'required', store: false, query: false, retrieve: false })
  ])
  const good = await startTlsStorescp(t, 'PINNED_DEST', goodPort, dest, node.certFile)
  const bad = await startTlsStorescp(t, 'WRONG_PIN', badPort, impostor, node.certFile)
  const instance = syntheticStudy({ seed: 1903, accessionNumber: 'ACCPIN' }).find((i) => i.transferSyntaxUid === '1.2.840.10008.1.2.1')!
  const file = join(dir, 'one.dcm')
  await writeFile(file, instance.bytes)
  const stored = await runTool(t, 'storescu', ['-aet', 'MOVESCU', '-aec', NODE_AE, '127.0.0.1', String(node.port), file])
  assert.equal(stored.code, 0, stored.stdout + stored.stderr)

  const move = async (destination: string): Promise<string> => {
    const r = await runTool(t, 'movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', NODE_AE, '-aem', destination, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${instance.studyInstanceUid}`, '127.0.0.1', String(node.port)])
    return r.stdout + r.stderr
  }
  assert.match(await move('PINNED_DEST'), /Received Final Move Response \(Success\)/)
  assert.equal((await receivedDatasets(good.dir)).size, 1, good.output())
  const refused = await move('WRONG_PIN')
  assert.doesNotMatch(refused, /Final Move Response \(Success\)/, refused)
  assert.equal((await receivedDatasets(bad.dir)).size, 0, 'nothing reached the impostor')
  assert.match(node.logs.join(''), /"event":"dimse\.move\.destination-failed".*"destinationAe":"WRONG_PIN".*not the pinned one/)
})

test('peerpacs start --dicom-tls: the node makes its DICOM TLS certificate once (server and client auth), says its port and fingerprint, echoscu +tls trusts it; the same certificate after a restart', { skip, timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-start-')
  const client = await selfSigned(dir, 'modality')
  const data = join(dir, 'data')
  const args = ['--dicom-tls', '127.0.0.1:0', '--allow-ae', 'ECHOSCU@127.0.0.1']
  const node = await startNode(t, data, args)
  const ready = node.logs().find((e) => e.event === 'node.ready')!
  const port = ready.dicomTlsPort as number
  assert.ok(port > 0 && port !== node.dicomPort)
  const certFile = join(data, 'keys', DIMSE_CERT_FILE)
  const cert = new X509Certificate(await readFile(certFile))
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'server and client authentication')
  assert.ok(node.stdout().includes(`SHA-256 fingerprint ${cert.fingerprint256}`), node.stdout())
  assert.equal(node.logs().find((e) => e.event === 'dimse.tls.listening')?.fingerprint, cert.fingerprint256)
  const httpsCert = join(data, 'keys', 'tls-cert.pem')
  if (existsSync(httpsCert)) assert.notEqual(new X509Certificate(await readFile(httpsCert)).fingerprint256, cert.fingerprint256)
  const control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as { dicom: { tlsPort: number } }
  assert.equal(control.dicom.tlsPort, port)
  assert.ok((await echo(t, 'ECHOSCU', port, tlsArgs(client, certFile))).ok)
  assert.ok((await echo(t, 'ECHOSCU', node.dicomPort)).ok, 'the plain port stays')
  assert.equal(await node.stop(), 0)

  const again = await startNode(t, data, args)
  assert.equal(again.logs().find((e) => e.event === 'dimse.tls.listening')?.fingerprint, cert.fingerprint256, 'kept')
  assert.equal(await again.stop(), 0)
})

test('DICOM TLS settings that contradict themselves: exit 2 naming what is wrong, before a fresh data dir is initialised', { skip, timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'peerpacs-tls-bad-')
  const pair = await selfSigned(dir, 'node')
  await writeFile(join(dir, 'not-a-ca.pem'), 'hello\n')
  await writeFile(join(dir, 'pin.json'), JSON.stringify({ dicom: { remotes: [{ aeTitle: 'CT1', host: '10.0.0.1', certFingerprint: 'AB:CD' }], tls: { listen: '127.0.0.1:0' } } }))
  await writeFile(join(dir, 'needs.json'), JSON.stringify({ dicom: { remotes: [{ aeTitle: 'CT1', host: '10.0.0.1', tls: 'required' }] } }))
  await writeFile(join(dir, 'require.json'), JSON.stringify({ dicom: { tls: { listen: '127.0.0.1:0', requireClientCert: true } } }))
  const cases: Array<[string[], RegExp]> = [
    [['--dicom-tls', '127.0.0.1:0', '--dicom-tls-cert', pair.cert], /a DICOM TLS certificate was given .*node-cert\.pem.* without its key/],
    [['--dicom-tls-cert', pair.cert, '--dicom-tls-key', pair.key], /DICOM TLS settings were given .* but no DICOM TLS address/],
    [['--dicom-tls', '127.0.0.1:0', '--dicom-tls-ca', join(dir, 'not-a-ca.pem')], /not-a-ca\.pem holds no PEM certificate/],
    [['--dicom-tls', '127.0.0.1:0', '--dicom-tls-cert', pair.cert, '--dicom-tls-key', join(dir, 'missing.pem')], /cannot read the TLS key .*missing\.pem: ENOENT/],
    [['--dicom-tls', 'nowhere'], /--dicom-tls: "nowhere" is not HOST:PORT/],
    [['--config', join(dir, 'pin.json')], /dicom\.remotes\[0\]\.certFingerprint: "AB:CD" is not a SHA-256 fingerprint/],
    [['--config', join(dir, 'needs.json')], /the remote AE CT1 needs DICOM TLS, but the node has no DICOM TLS port/],
    [['--config', join(dir, 'require.json')], /requireClientCert is on but no CA is given/]
  ]
  for (const [i, [extra, pattern]] of cases.entries()) {
    const data = join(dir, `data-${i}`)
    const child = spawnCli(['start', '--data', data, '--dicom', '127.0.0.1:0', '--http', '127.0.0.1:0', '--p2p', '/ip4/127.0.0.1/tcp/0', '--no-mdns', ...extra])
    t.after(() => { if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL') })
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.stdout!.resume()
    const [code] = await once(child, 'exit') as [number | null]
    assert.equal(code, 2, `${extra.join(' ')}: ${stderr}`)
    assert.match(stderr, pattern)
    assert.equal(existsSync(join(data, 'peerpacs.json')), false, 'nothing initialised')
  }
})

test('the TLS port speaks TLS 1.2+ with AEAD suites only (openssl s_client); the per-address limit closes a TLS connection before its handshake, unaudited; close() ends connections still in their handshake', { skip, timeout: 120_000 }, async (t) => {
  const node = await startTlsNode(t, [remote('ECHOSCU')], {})
  // (Not spawnSync: the node runs in this process and must answer the handshake.)
  const sClient = async (args: string[]): Promise<{ ok: boolean, out: string }> => {
    const r = await runTool(t, 'openssl', ['s_client', '-connect', `127.0.0.1:${node.tlsPort}`, '-CAfile', node.certFile, ...args])
    return { ok: r.code === 0 && /Verify return code: 0/.test(r.stdout), out: r.stdout + r.stderr }
  }
  const gcm = await sClient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'])
  assert.ok(gcm.ok, gcm.out)
  const v13 = connectTls({ host: '127.0.0.1', port: node.tlsPort, ca: await readFile(node.certFile), checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' })
  await once(v13, 'secureConnect')
  assert.equal(v13.getProtocol(), 'TLSv1.3')
  v13.destroy()
  assert.equal((await sClient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA'])).ok, false, 'CBC refused')
  assert.equal((await sClient(['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'])).ok, false, 'TLS 1.1 refused')
  await node.server.close()

  const limited = await startTlsNode(t, [remote('ECHOSCU')], {})
  const first = connectTls({ host: '127.0.0.1', port: limited.tlsPort, rejectUnauthorized: false })
  t.after(() => { first.destroy() })
  await once(first, 'secureConnect')
  // Over the limit: maxConnectionsPerAddress is 32 in the helper, so open 31 more raw connections, then one more.
  const raws = await Promise.all(Array.from({ length: 31 }, async () => {
    const s = connectTcp(limited.tlsPort, '127.0.0.1')
    s.on('error', () => {})
    await once(s, 'connect')
    return s
  }))
  t.after(() => { for (const s of raws) s.destroy() })
  const over = connectTls({ host: '127.0.0.1', port: limited.tlsPort, rejectUnauthorized: false })
  const overError = await new Promise<string>((resolve) => { over.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)); over.once('secureConnect', () => resolve('connected')) })
  assert.notEqual(overError, 'connected')
  assert.match(limited.logs.join(''), /"event":"dimse\.connection\.limit".*closed before the TLS handshake/)
  // The 31 raw connections never send a ClientHello: close() ends them rather than waiting.
  const records = await alerts(limited)
  assert.equal(said(records, /handshake/).length, 0, records.map((r) => r.outcomeDescription).join(' | '))
  for (const s of raws) if (!s.destroyed) await once(s, 'close')
})

/**
 * No secret of a person in clear anywhere (issue 14, invariant 1): two sites (A, B) and a backup,
 * each a `peerpacs start` process. Accounts are added, passwords set and changed, TOTP enrolled
 * and recovery codes issued, used and replaced, sessions opened (and one closed), all over real
 * HTTP. Then every node is stopped and we look, on A, B and the backup, in
 *   - every byte of every file under the data dir (raw),
 *   - every key and value of every level store there, read back through level (LevelDB
 *     compresses, so a raw scan alone could miss one), which holds every op's bytes,
 *   - every op body decoded (a user.* body is exactly {user, epoch, sealed}),
 *   - everything each node wrote to stdout and stderr,
 * for the passwords, usernames and display names, the TOTP secrets (bytes, hex, base32), the
 * recovery codes (as shown and as typed) and their hashes, the password hashes, and every
 * session id (the cookie value, its bytes, their hex). None may appear. The scan proves it
 * reads: it counts the bytes it read and finds what is in clear on purpose: the org's name, which
 * the genesis carries (keys/org.cbor), in each node's files; the type of each op ("user.add") in
 * its level store; the node.ready event in its log lines.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import * as OTPAuth from 'otpauth'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { fromHex, toHex } from '../../../protocol/encoding.ts'
import { nobleProvider } from '../../../protocol/crypto-provider.ts'
import { decodeOp } from '../../../protocol/log/index.ts'
import { LevelKvStore } from '../../../node/store/kv-level.ts'
import { listFiles, type Needle } from '../../helpers/files.ts'
import { HttpBrowser } from '../../helpers/http-browser.ts'
import { founder, joinSite, status, waitFor, type MeshNode } from '../../helpers/mesh.ts'
import { offlineSecrets } from '../../helpers/offline-accounts.ts'
import { addAccount, waitForAccounts } from '../../helpers/people-mesh.ts'

const ORG_NAME = 'Mesh Test Practice' // what mesh.ts's founder names the org: in the genesis, in clear

const PEOPLE = {
  admin: { username: 'zeldaquill', displayName: 'Zelda Quillfeather', role: 'admin', password: 'marigold fjord trumpet 3141' },
  radiologist: { username: 'yusufbrandt', displayName: 'Yusuf Brandtmoor', role: 'radiologist', password: 'tangerine basalt zither 2718' },
  technologist: { username: 'xavitennant', displayName: 'Xaviera Tennantworth', role: 'technologist', password: 'periwinkle canyon oboe 1618' }
}
const REFERRER = { username: 'wendelokafor', displayName: 'Wendel Okaforsson', role: 'referrer', password: 'juniper lagoon bassoon 1414' }
const TECH_SET_BY_ADMIN = 'hazelnut prairie cello 1732'
const TECH_OWN_CHANGE = 'vermilion tundra banjo 2236'

async function signedIn (tab: HttpBrowser, username: string, password: string): Promise<HttpBrowser> {
  const r = await tab.signIn(username, password)
  assert.equal(r.status, 200, `${username} at ${tab.url}: ${JSON.stringify(r.body)}`)
  assert.equal(r.body.stage, 'full')
  return tab
}

function base64urlBytes (value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'base64url'))
}

/** Directories under `root` holding a LevelDB (a CURRENT file). */
async function levelStores (root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    if (entries.some((e) => e.isFile() && e.name === 'CURRENT')) out.push(dir)
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name))
  }
  await walk(root)
  return out
}

interface Scan { bytes: number, hits: string[], found: Set<string> }

function look (scan: Scan, where: string, bytes: Uint8Array, needles: Needle[], markers: Needle[]): void {
  scan.bytes += bytes.length
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (const n of needles) if (buffer.indexOf(n.bytes) !== -1) scan.hits.push(`${where}: ${n.label}`)
  for (const m of markers) if (buffer.indexOf(m.bytes) !== -1) scan.found.add(m.label)
}

interface NodeScan { files: Scan, values: Scan, logs: Scan, ops: number, userOps: number }

/** Scans a stopped node: its files raw, its level stores through level (every op decoded), its log lines. */
async function scanNode (node: MeshNode, needles: Needle[], markers: Needle[]): Promise<NodeScan> {
  const files: Scan = { bytes: 0, hits: [], found: new Set() }
  for (const file of await listFiles(node.data)) look(files, relative(node.data, file), await readFile(file), needles, markers)
  const values: Scan = { bytes: 0, hits: [], found: new Set() }
  let ops = 0
  let userOps = 0
  const stores = await levelStores(node.data)
  assert.ok(stores.some((s) => s.endsWith('index')), `${node.name}: the index is among the level stores (${stores.join(', ')})`)
  for (const location of stores) {
    const store = await LevelKvStore.open(location)
    try {
      for await (const [key, value] of store.entries([])) {
        const where = `${relative(node.data, location)}:${key.join('/')}`
        look(values, `${where} (key)`, utf8Encode(key.join('/')), needles, markers)
        look(values, where, value, needles, markers)
        if (key[0] !== 'oplog') continue
        const op = decodeOp(nobleProvider, value)
        ops++
        if (op.type.startsWith('user.')) {
          userOps++
          assert.deepEqual(Object.keys(op.body).sort(), ['epoch', 'sealed', 'user'], `${node.name}: a ${op.type} body holds only the account id, the epoch and the sealed record`)
        }
        look(values, `${where} body`, utf8Encode(JSON.stringify(op.body, (_k, v: unknown) => v instanceof Uint8Array ? toHex(v) : v)), needles, markers)
      }
    } finally {
      await store.close()
    }
  }
  const logs: Scan = { bytes: 0, hits: [], found: new Set() }
  look(logs, 'stdout', utf8Encode(node.process.stdout()), needles, markers)
  look(logs, 'stderr', utf8Encode(node.process.stderr()), needles, markers)
  return { files, values, logs, ops, userOps }
}

test('no password, username, TOTP secret, recovery code, hash or session id in clear on two sites and the backup, in their logs or in any op', async (t) => {
  const started = Date.now()
  const a = await founder(t, 'A')
  const b = await joinSite(t, a, 'B')
  const backup = await joinSite(t, a, 'backup', 'backup')
  const nodes: MeshNode[] = [a, b, backup]
  await waitFor('A connected to B and the backup', async () => (await status(a)).mesh.peers.filter((p: { connected: boolean }) => p.connected).length === 2)

  for (const person of Object.values(PEOPLE)) await addAccount(a, person)
  await waitForAccounts(b, Object.values(PEOPLE).map((p) => p.username))
  const tabs: HttpBrowser[] = []
  const tab = (node: MeshNode, totpUri?: string): HttpBrowser => { const x = new HttpBrowser(node.process.url, totpUri); tabs.push(x); return x }

  // The radiologist enrols TOTP at A (recovery codes shown), then signs in at B with TOTP, again
  // at B with a recovery code (single use: an op), and replaces the recovery codes there.
  const radA = await signedIn(tab(a), PEOPLE.radiologist.username, PEOPLE.radiologist.password)
  assert.equal(radA.recoveryCodes.length, 10)
  await waitForAccounts(b, [PEOPLE.radiologist.username], (x) => x.secondFactors.totp)
  const radB = await signedIn(tab(b, radA.totpUri), PEOPLE.radiologist.username, PEOPLE.radiologist.password)
  const radB2 = tab(b)
  assert.equal((await radB2.request('POST', '/api/session', { username: PEOPLE.radiologist.username, password: PEOPLE.radiologist.password })).status, 200)
  const recovered = await radB2.request('POST', '/api/session/second-factor', { method: 'recovery', code: radA.recoveryCodes[0] })
  assert.equal(recovered.status, 200, JSON.stringify(recovered.body))
  const replaced = await radB.request('POST', '/api/me/recovery-codes', { password: PEOPLE.radiologist.password })
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body))
  assert.equal(radB.recoveryCodes.length, 10)

  // The admin enrols TOTP at B, adds a referrer and sets the technologist's password.
  const adminB = await signedIn(tab(b), PEOPLE.admin.username, PEOPLE.admin.password)
  assert.equal((await adminB.request('POST', '/api/users', REFERRER)).status, 201)
  assert.equal((await adminB.request('POST', `/api/users/${PEOPLE.technologist.username}/password`, { password: TECH_SET_BY_ADMIN })).status, 200)

  // The technologist signs in at A with the first password (before the change arrives), then at
  // B with the admin's, changes it there, and signs in again at A once the change has arrived.
  const techA = await signedIn(tab(a), PEOPLE.technologist.username, PEOPLE.technologist.password)
  const techB = await signedIn(tab(b), PEOPLE.technologist.username, TECH_SET_BY_ADMIN)
  assert.equal((await techB.request('POST', '/api/me/password', { current: TECH_SET_BY_ADMIN, next: TECH_OWN_CHANGE })).status, 200)
  await signedIn(tab(b), REFERRER.username, REFERRER.password)
  await waitFor('A to take the technologist\'s own password', async () => (await new HttpBrowser(a.process.url).request('POST', '/api/session', { username: PEOPLE.technologist.username, password: TECH_OWN_CHANGE })).status === 200, 90_000)
  assert.equal((await techA.request('DELETE', '/api/session')).status, 200, 'one session signed out')

  // Every op reaches everyone, the backup included; then all stop, so every file is final.
  await waitFor('the same log heads at A, B and the backup', async () => {
    const heads = await Promise.all(nodes.map(async (n) => JSON.stringify((await status(n)).mesh.log.heads)))
    return heads.every((h) => h === heads[0])
  }, 120_000)
  const flowMs = Date.now() - started
  for (const node of nodes) assert.equal(await node.process.stop('SIGTERM'), 0, `${node.name} stopped cleanly`)

  // What to look for, from what the people were shown and from the records as A opens them.
  const opened = await offlineSecrets(a.data)
  const needles: Needle[] = []
  const text = (label: string, value: string): void => { needles.push({ label, bytes: utf8Encode(value) }) }
  const bytes = (label: string, value: Uint8Array): void => { needles.push({ label, bytes: value }) }
  for (const p of [...Object.values(PEOPLE), REFERRER]) {
    text(`username ${p.username}`, p.username)
    text(`display name of ${p.username}`, p.displayName)
    text(`password of ${p.username}`, p.password)
  }
  text('the technologist\'s password set by the admin', TECH_SET_BY_ADMIN)
  text('the technologist\'s own new password', TECH_OWN_CHANGE)
  const totpUris = [radA.totpUri!, adminB.totpUri!]
  for (const uri of totpUris) {
    const secret = (OTPAuth.URI.parse(uri) as OTPAuth.TOTP).secret
    assert.ok(opened.some((o) => o.totp === toHex(secret.bytes)), 'the URI\'s secret is the one in the sealed record')
    bytes(`TOTP secret (bytes) ${secret.base32.slice(0, 6)}`, secret.bytes)
    text(`TOTP secret (hex) ${secret.base32.slice(0, 6)}`, toHex(secret.bytes))
    text(`TOTP secret (HEX) ${secret.base32.slice(0, 6)}`, toHex(secret.bytes).toUpperCase())
    text(`TOTP secret (base32) ${secret.base32.slice(0, 6)}`, secret.base32)
  }
  const codes = tabs.flatMap((x) => x.recoveryCodes)
  assert.equal(codes.length, 30, 'the admin\'s ten, and the radiologist\'s ten at enrolment and ten replacing them')
  for (const code of codes) {
    text(`recovery code ${code}`, code)
    text(`recovery code as typed ${code}`, code.replaceAll('-', ''))
    text(`recovery code lower case ${code}`, code.toLowerCase())
  }
  for (const o of opened) {
    if (o.password !== null) {
      bytes(`password hash of ${o.username}`, fromHex(o.password.hash))
      text(`password hash (hex) of ${o.username}`, o.password.hash)
    }
    for (const h of o.recovery) { bytes(`recovery hash of ${o.username}`, fromHex(h)); text(`recovery hash (hex) of ${o.username}`, h) }
  }
  assert.equal(opened.flatMap((o) => o.recovery).length, 20, 'A opened the admin\'s ten and the radiologist\'s new ten')
  const sessionIds = tabs.flatMap((x) => x.cookies)
  assert.ok(sessionIds.length >= 8, `session ids were handed out (${sessionIds.length})`)
  for (const id of sessionIds) {
    const raw = base64urlBytes(id)
    assert.equal(raw.length, 32, 'a session id is 32 random bytes')
    text(`session id ${id.slice(0, 6)}`, id)
    bytes(`session id bytes ${id.slice(0, 6)}`, raw)
    text(`session id hex ${id.slice(0, 6)}`, toHex(raw))
  }
  const markers: Needle[] = [
    { label: 'org name', bytes: utf8Encode(ORG_NAME) },
    { label: 'op type user.add', bytes: utf8Encode('user.add') },
    { label: 'node.ready', bytes: utf8Encode('"event":"node.ready"') }
  ]

  const report: string[] = []
  for (const node of nodes) {
    const { files, values, logs, ops, userOps } = await scanNode(node, needles, markers)
    const hits = [...files.hits, ...values.hits, ...logs.hits]
    assert.deepEqual(hits, [], `${node.name}: secrets in clear:\n${hits.join('\n')}`)
    assert.ok(files.bytes > 0 && values.bytes > 0 && logs.bytes > 0, `${node.name}: the scan read files, level values and log lines`)
    assert.ok(files.found.has('org name'), `${node.name}: the raw scan finds the org's name, in clear in the genesis`)
    assert.ok(values.found.has('op type user.add'), `${node.name}: the level scan reads the ops, whose type is in clear`)
    assert.ok(logs.found.has('node.ready'), `${node.name}: the log scan sees the node's ready line`)
    assert.ok(userOps >= 10, `${node.name}: the user.* ops were scanned (${userOps} of ${ops} ops)`)
    report.push(`${node.name}: ${files.bytes} file bytes, ${values.bytes} level bytes (${ops} ops, ${userOps} user.*), ${logs.bytes} log bytes`)
  }

  // The scan would see a leak: a password and a session id's bytes planted in A's index are found.
  const planted = await LevelKvStore.open(join(a.data, 'index'))
  await planted.batch([{ type: 'put', key: ['test-canary'], value: new Uint8Array([...utf8Encode(`x ${PEOPLE.admin.password} y `), ...base64urlBytes(sessionIds[0]!)]) }])
  await planted.close()
  const canary = await scanNode(a, needles, markers)
  assert.ok(canary.values.hits.some((h) => h.includes('test-canary') && h.includes(`password of ${PEOPLE.admin.username}`)), canary.values.hits.join('\n'))
  assert.ok(canary.values.hits.some((h) => h.includes('test-canary') && h.includes('session id bytes')), canary.values.hits.join('\n'))
  const dataBytes = (await Promise.all(nodes.map(async (n) => (await Promise.all((await listFiles(n.data)).map(async (f) => (await stat(f)).size))).reduce((x, y) => x + y, 0))))
  t.diagnostic(`${needles.length} needles; flow ${flowMs} ms; ${report.join('; ')}; data dirs ${dataBytes.join(', ')} bytes`)
})

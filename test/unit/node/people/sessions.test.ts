/** Sessions (node/people/sessions.ts) and the session cookie (session-cookie.ts), with an injected clock. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { networkOf } from '../../../../node/people/client-address.ts'
import { clearedSessionCookie, SESSION_COOKIE, sessionCookie, sessionIdFrom } from '../../../../node/people/session-cookie.ts'
import { DEFAULT_SESSION_POLICY, SessionNotFoundError, SessionStageError, SessionStore, TOUCH_INTERVAL_MS } from '../../../../node/people/sessions.ts'
import { LevelKvStore } from '../../../../node/store/kv-level.ts'
import { MemoryKvStore } from '../../../../node/store/kv-memory.ts'
import type { KvKey, KvOperation, KvStore } from '../../../../node/store/kv.ts'

const USER = '0123456789abcdef0123456789abcdef'
const OTHER = 'fedcba9876543210fedcba9876543210'
const HERE = '10.0.0.7'
const SEC = 1000
const MIN = 60 * SEC

/** A memory kv that counts the writes (batches that put something) made through it. */
class CountingKv implements KvStore {
  readonly inner = new MemoryKvStore()
  puts = 0
  async get (key: KvKey): Promise<Uint8Array | undefined> { return await this.inner.get(key) }
  async batch (operations: readonly KvOperation[]): Promise<void> {
    if (operations.some((op) => op.type === 'put')) this.puts++
    await this.inner.batch(operations)
  }

  entries (prefix: KvKey): AsyncIterable<[KvKey, Uint8Array]> { return this.inner.entries(prefix) }
  async close (): Promise<void> { await this.inner.close() }
}

function setup (policy = {}): { kv: CountingKv, store: SessionStore, clock: { t: number } } {
  const clock = { t: 1_700_000_000_000 }
  const kv = new CountingKv()
  return { kv, clock, store: new SessionStore(kv, { policy, now: () => clock.t }) }
}

test('defaults: idle 15 min, absolute 12 h, mfa stage 5 min', () => {
  assert.deepEqual({ ...DEFAULT_SESSION_POLICY }, { idleMs: 15 * MIN, absoluteMs: 12 * 60 * MIN, mfaStageMs: 5 * MIN })
})

test('a created session resolves from its address; ids are 32 random bytes, base64url, distinct', async () => {
  const { store } = setup()
  const { id, session } = await store.create(USER, 'full', HERE, 'Mozilla/5.0')
  assert.match(id, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(Buffer.from(id, 'base64url').length, 32)
  assert.equal(session.idHash, createHash('sha256').update(id).digest('hex'))
  const r = await store.resolve(id, HERE)
  assert.ok(r.ok)
  assert.equal(r.session.user, USER)
  assert.equal(r.session.stage, 'full')
  assert.equal(r.session.userAgent, 'Mozilla/5.0')
  const second = await store.create(USER, 'full', HERE)
  assert.notEqual(second.id, id)
  assert.notEqual(second.session.csrf, session.csrf)
})

test('idle expiry: 15 min without a request ends the session, and it is deleted', async () => {
  const { store, clock } = setup()
  const { id } = await store.create(USER, 'full', HERE)
  clock.t += 14 * MIN
  assert.ok((await store.resolve(id, HERE)).ok)
  clock.t += 14 * MIN // 14 min after the last request: still alive
  assert.ok((await store.resolve(id, HERE)).ok)
  clock.t += 15 * MIN
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'idle' })
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'unknown' }, 'an expired session is deleted')
})

test('absolute expiry: 12 h after sign-in even with a request every minute', async () => {
  const { store, clock } = setup()
  const { id } = await store.create(USER, 'full', HERE)
  const start = clock.t
  let last: Awaited<ReturnType<SessionStore['resolve']>> = { ok: false, why: 'unknown' }
  while (clock.t - start < 12 * 60 * MIN) {
    last = await store.resolve(id, HERE)
    assert.ok(last.ok, `alive at ${(clock.t - start) / MIN} min`)
    clock.t += MIN
  }
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'absolute' })
})

test('mfa stage: a session waiting for its second factor lives 5 min', async () => {
  const { store, clock } = setup()
  const { id } = await store.create(USER, 'mfa', HERE)
  clock.t += 4 * MIN
  const r = await store.resolve(id, HERE)
  assert.ok(r.ok && r.session.stage === 'mfa')
  clock.t += MIN
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'stage' })
  const late = await store.create(USER, 'mfa', HERE)
  clock.t += 5 * MIN
  await assert.rejects(store.promote(late.id), SessionNotFoundError)
})

test('promote rotates the id and the CSRF token; the old id is dead; only mfa sessions are promoted', async () => {
  const { store, clock } = setup()
  const { id, session } = await store.create(USER, 'mfa', HERE)
  clock.t += MIN
  const promoted = await store.promote(id)
  assert.notEqual(promoted.id, id)
  assert.notEqual(promoted.session.idHash, session.idHash)
  assert.notEqual(promoted.session.csrf, session.csrf)
  assert.equal(promoted.session.stage, 'full')
  assert.equal(promoted.session.created, session.created, 'the absolute lifetime runs from the password')
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'unknown' })
  const r = await store.resolve(promoted.id, HERE)
  assert.ok(r.ok && r.session.stage === 'full')
  await assert.rejects(store.promote(id), SessionNotFoundError)
  await assert.rejects(store.promote(promoted.id), SessionStageError)
  await assert.rejects(store.promote('not an id'), SessionNotFoundError)
  // two promotions racing: exactly one wins
  const other = await store.create(USER, 'mfa', HERE)
  const results = await Promise.allSettled([store.promote(other.id), store.promote(other.id)])
  assert.deepEqual(results.map((x) => x.status).sort(), ['fulfilled', 'rejected'])
  assert.equal((await store.listOf(USER)).length, 2)
})

test('address binding: a session presented from another network is deleted and answered address', async () => {
  const { store } = setup()
  const { id } = await store.create(USER, 'full', HERE)
  assert.ok((await store.resolve(id, '::ffff:10.0.0.7')).ok, 'the IPv4-mapped form is the same address')
  assert.deepEqual(await store.resolve(id, '10.0.0.8'), { ok: false, why: 'address' })
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'unknown' }, 'the replay killed the session')
  const v6 = await store.create(USER, 'full', '2001:db8:1:2::aaaa')
  assert.ok((await store.resolve(v6.id, '2001:db8:1:2:ffff::1')).ok, 'a new privacy address in the same /64')
  assert.deepEqual(await store.resolve(v6.id, '2001:db8:1:3::aaaa'), { ok: false, why: 'address' })
})

test('endAllOf ends every session of a user but the one excepted; listOf lists only live ones', async () => {
  const { store, clock } = setup()
  const a = await store.create(USER, 'full', HERE)
  clock.t += SEC
  const b = await store.create(USER, 'full', '10.0.0.9')
  clock.t += SEC
  const c = await store.create(USER, 'mfa', HERE)
  const o = await store.create(OTHER, 'full', HERE)
  assert.deepEqual((await store.listOf(USER)).map((s) => s.idHash), [a.session.idHash, b.session.idHash, c.session.idHash])
  clock.t += 6 * MIN // the mfa session is past its stage
  assert.deepEqual((await store.listOf(USER)).map((s) => s.idHash), [a.session.idHash, b.session.idHash])
  assert.equal(await store.endAllOf(USER, a.session.idHash), 2)
  assert.ok((await store.resolve(a.id, HERE)).ok)
  assert.deepEqual(await store.resolve(b.id, '10.0.0.9'), { ok: false, why: 'unknown' })
  assert.ok((await store.resolve(o.id, HERE)).ok, 'another user is untouched')
  assert.equal(await store.endAllOf(USER), 1)
  assert.deepEqual(await store.listOf(USER), [])
})

test('end, endByHash; sweep removes exactly the expired sessions', async () => {
  const { store, clock } = setup()
  const a = await store.create(USER, 'full', HERE)
  await store.end(a.id)
  assert.deepEqual(await store.resolve(a.id, HERE), { ok: false, why: 'unknown' })
  const b = await store.create(USER, 'full', HERE)
  assert.equal(await store.endByHash(b.session.idHash), true)
  assert.equal(await store.endByHash(b.session.idHash), false)
  assert.equal(await store.endByHash('nonsense'), false)
  await store.end('')
  const old = await store.create(USER, 'full', HERE)
  const mfa = await store.create(USER, 'mfa', HERE)
  clock.t += 10 * MIN
  const fresh = await store.create(OTHER, 'full', HERE)
  assert.equal(await store.sweep(), 1, 'only the mfa session is past its limit')
  clock.t += 6 * MIN
  assert.equal(await store.sweep(), 1, 'then the idle one')
  assert.ok((await store.resolve(fresh.id, HERE)).ok)
  assert.deepEqual(await store.resolve(old.id, HERE), { ok: false, why: 'unknown' })
  assert.deepEqual(await store.resolve(mfa.id, HERE), { ok: false, why: 'unknown' })
})

test('CSRF: the right token passes; a wrong, truncated, empty or missing one does not', async () => {
  const { store } = setup()
  const { session } = await store.create(USER, 'full', HERE)
  assert.match(session.csrf, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(SessionStore.checkCsrf(session, session.csrf), true)
  for (const bad of [undefined, '', session.csrf.slice(0, -1), session.csrf + 'A', session.csrf.toUpperCase() === session.csrf ? 'x' : session.csrf.toUpperCase(), 'x'.repeat(10_000)]) {
    assert.equal(SessionStore.checkCsrf(session, bad), false, String(bad).slice(0, 20))
  }
})

test('lastSeen is written at most once per 30 s however many requests arrive', async () => {
  const { store, kv, clock } = setup()
  const { id } = await store.create(USER, 'full', HERE)
  const before = kv.puts
  for (let i = 0; i < 600; i++) { // a viewer: 10 requests a second for a minute
    assert.ok((await store.resolve(id, HERE)).ok)
    clock.t += 100
  }
  const writes = kv.puts - before
  assert.ok(writes >= 1 && writes <= 60 * SEC / TOUCH_INTERVAL_MS, `${writes} writes for 600 requests over 60 s`)
  // and the writes keep the session alive: 14 min of quiet after the last one is fine
  clock.t += 14 * MIN
  assert.ok((await store.resolve(id, HERE)).ok)
})

test('a touch of lastSeen racing endAllOf does not bring the session back', async () => {
  const { store, clock } = setup()
  const { id } = await store.create(USER, 'full', HERE)
  clock.t += TOUCH_INTERVAL_MS // the next resolve writes
  const [, ended] = await Promise.all([store.resolve(id, HERE), store.endAllOf(USER)])
  assert.equal(ended, 1)
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'unknown' })
})

test('update rewrites a live session (break-glass) and keeps what identifies it', async () => {
  const { store } = setup()
  const { id, session } = await store.create(USER, 'full', HERE)
  const grant = { study: '1.2.3', reason: 'stroke alert, on-call', until: session.created + 3_600_000 }
  await store.update(session.idHash, (s) => ({ ...s, breakGlass: [...(s.breakGlass ?? []), grant] }))
  const r = await store.resolve(id, HERE)
  assert.ok(r.ok)
  assert.deepEqual(r.session.breakGlass, [grant])
  await assert.rejects(store.update(session.idHash, (s) => ({ ...s, user: OTHER })), /must keep/)
  await assert.rejects(store.update('0'.repeat(64), (s) => s), SessionNotFoundError)
})

test('the kv holds no session id nor anything that is not a hash of one', async () => {
  const { store, kv } = setup()
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await store.create(USER, i % 2 === 0 ? 'full' : 'mfa', HERE)).id)
  ids.push((await store.promote(ids[1]!)).id)
  let n = 0
  for await (const [key, value] of kv.inner.entries([])) {
    n++
    const text = key.join('/') + Buffer.from(value).toString('latin1')
    for (const id of ids) {
      assert.ok(!text.includes(id), 'id in clear')
      assert.ok(!text.includes(Buffer.from(id, 'base64url').toString('hex')), 'id bytes in hex')
      assert.ok(!Buffer.from(value).includes(Buffer.from(id, 'base64url')), 'id raw bytes')
    }
    assert.match(key[1]!, /^[0-9a-f]{64}$/)
  }
  assert.equal(n, 5)
})

test('on disk (level), no file holds a session id, in text, hex or bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peerpacs-sessions-'))
  try {
    const kv = await LevelKvStore.open(join(dir, 'kv'), { create: true })
    const store = new SessionStore(kv)
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await store.create(USER, 'mfa', HERE)).id)
    for (let i = 0; i < 10; i++) ids.push((await store.promote(ids[i]!)).id)
    const live = ids[ids.length - 1]!
    assert.ok((await store.resolve(live, HERE)).ok)
    await kv.close()
    let bytes = 0
    for (const name of await readdir(join(dir, 'kv'))) {
      const content = await readFile(join(dir, 'kv', name))
      bytes += content.length
      for (const id of ids) {
        assert.ok(!content.includes(Buffer.from(id)), `${name} holds a session id in text`)
        assert.ok(!content.includes(Buffer.from(id, 'base64url')), `${name} holds a session id's bytes`)
        assert.ok(!content.includes(Buffer.from(Buffer.from(id, 'base64url').toString('hex'))), `${name} holds a session id in hex`)
      }
    }
    assert.ok(bytes > 1000, 'the sessions were written')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('malformed ids answer unknown without throwing', async () => {
  const { store } = setup()
  await store.create(USER, 'full', HERE)
  const bad: unknown[] = ['', 'x'.repeat(10_240), '!!!!not-base64!!!!', 'A'.repeat(42), 'A'.repeat(44), 'A'.repeat(42) + '=', '\u0000'.repeat(43), 'é'.repeat(43), undefined, null, 42]
  for (const id of bad) {
    assert.deepEqual(await store.resolve(id as string, HERE), { ok: false, why: 'unknown' }, String(id).slice(0, 20))
  }
  assert.deepEqual(await store.resolve('A'.repeat(43), HERE), { ok: false, why: 'unknown' }, 'well-formed but never issued')
})

test('a damaged record is answered unknown and swept', async () => {
  const { store, kv } = setup()
  const { id, session } = await store.create(USER, 'full', HERE)
  await kv.inner.batch([{ type: 'put', key: ['session', session.idHash], value: new Uint8Array([0xff, 0x00]) }])
  assert.deepEqual(await store.resolve(id, HERE), { ok: false, why: 'unknown' })
  assert.equal(await store.sweep(), 1)
})

test('inputs are checked: user id, stage, long user agents are truncated', async () => {
  const { store } = setup()
  await assert.rejects(store.create('ALICE', 'full', HERE), /32 lowercase hex/)
  await assert.rejects(store.create(USER, 'admin' as 'full', HERE), /'mfa' or 'full'/)
  const { session } = await store.create(USER, 'full', HERE, '🙂'.repeat(500))
  assert.equal(Array.from(session.userAgent).length, 200)
  assert.throws(() => new SessionStore(new MemoryKvStore(), { policy: { idleMs: 0 } }), /idleMs/)
})

test('cookie: Set-Cookie values set and clear it with HttpOnly, SameSite=Strict, Path=/, Secure when asked', () => {
  const id = 'A'.repeat(43)
  assert.equal(sessionCookie(id, { secure: false }), `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`)
  assert.equal(sessionCookie(id, { secure: true, maxAgeSeconds: 43_200 }), `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=43200`)
  assert.equal(clearedSessionCookie(true), `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`)
  assert.ok(!clearedSessionCookie(false).includes('Secure'))
  assert.throws(() => sessionCookie('a;b', { secure: true }), /base64url/)
  assert.throws(() => sessionCookie(id, { secure: true, maxAgeSeconds: -1 }), /maxAgeSeconds/)
})

test('cookie: the id is read among other cookies; absent, absurd or malformed values give undefined', () => {
  const id = 'abc_DEF-123'.padEnd(43, 'x')
  assert.equal(sessionIdFrom(`${SESSION_COOKIE}=${id}`), id)
  assert.equal(sessionIdFrom(`theme=dark; ${SESSION_COOKIE}=${id}; lang=en`), id)
  assert.equal(sessionIdFrom(`theme=dark;${SESSION_COOKIE}="${id}"`), id)
  assert.equal(sessionIdFrom(`x${SESSION_COOKIE}=${id}; ${SESSION_COOKIE}_old=zzz`), undefined)
  assert.equal(sessionIdFrom(`${SESSION_COOKIE}=${id}; ${SESSION_COOKIE}=other`), id, 'the first one wins')
  for (const bad of [undefined, '', 'theme=dark', `${SESSION_COOKIE}=`, `${SESSION_COOKIE}=${'A'.repeat(129)}`, `${SESSION_COOKIE}=a b`, `${SESSION_COOKIE}=<script>`, `a=${'b'.repeat(9000)}; ${SESSION_COOKIE}=${id}`]) {
    assert.equal(sessionIdFrom(bad), undefined, String(bad).slice(0, 40))
  }
  const set = sessionCookie(id, { secure: true })
  assert.equal(sessionIdFrom(set.split(';')[0]), id, 'what we set is what we read back')
})

test('client networks: IPv4 and its mapped form are one; IPv6 is its /64; other labels are kept, bounded', () => {
  const table: Array<[string, string]> = [
    ['10.0.0.7', '10.0.0.7'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['::ffff:a00:7', '10.0.0.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['[2001:db8:a:b::9]', '2001:db8:a:b::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['::1', '::1'],
    ['unknown', 'unknown'],
    ['x'.repeat(1000), 'x'.repeat(100)]
  ]
  for (const [address, network] of table) assert.equal(networkOf(address), network, address.slice(0, 30))
})

/** Sign-in throttling (node/people/throttle.ts) with an injected clock. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_THROTTLE_POLICY, SignInThrottle, type ThrottlePolicy } from '../../../../node/people/throttle.ts'

const SEC = 1000
const MIN = 60 * SEC
const HOUR = 60 * MIN
const ATTACKER = '203.0.113.9'
const USER_AT = '198.51.100.7'

function setup (policy: Partial<ThrottlePolicy> = {}): { throttle: SignInThrottle, clock: { t: number } } {
  const clock = { t: 1_700_000_000_000 }
  return { clock, throttle: new SignInThrottle({ policy, now: () => clock.t }) }
}

/** Fails as fast as the throttle lets one address, for `span` ms; returns how many guesses got through. */
function hammer (throttle: SignInThrottle, clock: { t: number }, account: string, address: string, span: number, step: number, each?: () => void): number {
  let guesses = 0
  for (const end = clock.t + span; clock.t < end; clock.t += step) {
    if (throttle.check(account, address).allowed) {
      throttle.failure(account, address)
      guesses++
    }
    each?.()
  }
  return guesses
}

test('pair backoff: 5 free failures, then 1 s, 2 s, 4 s … and never more than 15 min', () => {
  const { throttle, clock } = setup({ addressFailures: 1e9 }) // rule 1 alone
  const waits: number[] = []
  for (let i = 0; i < 30; i++) {
    const v = throttle.check('alice', ATTACKER)
    assert.ok(v.allowed, `attempt ${i + 1} is allowed once the wait is over`)
    throttle.failure('alice', ATTACKER)
    const after = throttle.check('alice', ATTACKER)
    waits.push(after.allowed ? 0 : after.retryAfterMs)
    if (!after.allowed) {
      assert.equal(after.reason, 'account')
      clock.t += after.retryAfterMs - 1
      assert.equal(throttle.check('alice', ATTACKER).allowed, false, 'still waiting 1 ms before the end')
      clock.t += 1
    }
  }
  assert.deepEqual(waits.slice(0, 10), [0, 0, 0, 0, 0, SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC])
  assert.equal(Math.max(...waits), 15 * MIN)
  assert.deepEqual(waits.slice(-5), Array(5).fill(15 * MIN))
})

test('success resets the pair: the next failures are free again', () => {
  const { throttle, clock } = setup()
  for (let i = 0; i < 7; i++) { clock.t += 10 * SEC; throttle.failure('alice', USER_AT) }
  assert.equal(throttle.check('alice', USER_AT).allowed, false)
  clock.t += 5 * MIN
  throttle.success('alice', USER_AT)
  for (let i = 0; i < 6; i++) {
    assert.ok(throttle.check('alice', USER_AT).allowed, `failure ${i + 1} after the success`)
    throttle.failure('alice', USER_AT)
  }
  assert.deepEqual(throttle.check('alice', USER_AT), { allowed: false, retryAfterMs: SEC, reason: 'account' }, 'the backoff starts again from its first step')
})

test('a pair\'s failures are forgotten 24 h after the last one', () => {
  const { throttle, clock } = setup({ addressFailures: 1e9 })
  hammer(throttle, clock, 'alice', ATTACKER, 2 * HOUR, SEC)
  assert.equal(throttle.check('alice', ATTACKER).allowed, false)
  clock.t += 24 * HOUR
  for (let i = 0; i < 5; i++) {
    assert.ok(throttle.check('alice', ATTACKER).allowed)
    throttle.failure('alice', ATTACKER)
  }
})

test('one hostile address hammering an account for a day never keeps the user at another address out', () => {
  const { throttle, clock } = setup()
  let userChecks = 0
  const guesses = hammer(throttle, clock, 'alice', ATTACKER, 24 * HOUR, SEC, () => {
    if (clock.t % (5 * MIN) === 0) {
      userChecks++
      assert.ok(throttle.check('alice', USER_AT).allowed, 'the real user, never signed in from here before, may try')
    }
  })
  assert.ok(userChecks > 200)
  assert.equal(throttle.check('alice', ATTACKER).allowed, false, 'the attacker is slowed')
  assert.ok(guesses < 24 * 6, `the attacker got ${guesses} guesses in 24 h`)
  // and the user, signing in from there, is not held up by the attacker's record
  throttle.success('alice', USER_AT)
  assert.ok(throttle.check('alice', USER_AT).allowed)
})

test('account lock: failures from several addresses lock the account for 15 min, except where the user signed in before', () => {
  const { throttle, clock } = setup()
  throttle.success('alice', USER_AT) // her usual place
  clock.t += HOUR
  const bots = ['192.0.2.1', '192.0.2.2', '192.0.2.3']
  for (let i = 0; i < 10; i++) {
    assert.ok(throttle.check('alice', bots[i % 3]!).allowed)
    throttle.failure('alice', bots[i % 3]!)
  }
  const travelling = throttle.check('alice', '100.64.0.1')
  assert.deepEqual(travelling, { allowed: false, retryAfterMs: 15 * MIN, reason: 'account' })
  assert.ok(throttle.check('alice', USER_AT).allowed, 'her usual address is exempt')
  assert.ok(throttle.check('bob', '100.64.0.1').allowed, 'other accounts are untouched')
  clock.t += 15 * MIN
  assert.ok(throttle.check('alice', '100.64.0.1').allowed, 'the lock ends by itself')
})

test('ten failures from two addresses do not lock the account (a lock needs three addresses)', () => {
  const { throttle } = setup()
  for (let i = 0; i < 10; i++) throttle.failure('alice', i % 2 === 0 ? ATTACKER : '192.0.2.2')
  assert.ok(throttle.check('alice', USER_AT).allowed)
})

test('address lock: one address failing against many accounts is locked 15 min; known accounts there are exempt', () => {
  const { throttle, clock } = setup()
  throttle.success('carol', ATTACKER) // carol works behind the same NAT as the sprayer
  for (let i = 0; i < 20; i++) {
    clock.t += 10 * SEC
    assert.ok(throttle.check(`user${i}`, ATTACKER).allowed)
    throttle.failure(`user${i}`, ATTACKER)
  }
  const v = throttle.check('user99', ATTACKER)
  assert.ok(!v.allowed && v.reason === 'address' && v.retryAfterMs === 15 * MIN)
  assert.equal(throttle.check('user0', ATTACKER).allowed, false)
  assert.ok(throttle.check('carol', ATTACKER).allowed, 'an account known at this address still signs in')
  assert.ok(throttle.check('user0', USER_AT).allowed, 'the accounts themselves are not locked elsewhere')
  clock.t += 15 * MIN
  assert.ok(throttle.check('user99', ATTACKER).allowed, 'the lock expires')
})

test('repeated locks double and stay bounded: an address 15 min … 4 h, an account 15 min … 1 h; forgotten after 24 h', () => {
  const { throttle, clock } = setup()
  const addressLocks: number[] = []
  let n = 0
  for (let round = 0; round < 7; round++) {
    for (let i = 0; i < 20; i++) throttle.failure(`user${n++}`, ATTACKER)
    const v = throttle.check('someone', ATTACKER)
    assert.ok(!v.allowed && v.reason === 'address')
    addressLocks.push(v.retryAfterMs / MIN)
    clock.t += v.retryAfterMs
  }
  assert.deepEqual(addressLocks, [15, 30, 60, 120, 240, 240, 240])
  const accountLocks: number[] = []
  const bots = ['192.0.2.1', '192.0.2.2', '192.0.2.3']
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 10; i++) throttle.failure('alice', `${bots[i % 3]!.slice(0, -1)}${round * 3 + (i % 3) + 1}`)
    const v = throttle.check('alice', USER_AT)
    assert.ok(!v.allowed && v.reason === 'account')
    accountLocks.push(v.retryAfterMs / MIN)
    clock.t += v.retryAfterMs
  }
  assert.deepEqual(accountLocks, [15, 30, 60, 60])
  clock.t += 24 * HOUR
  for (let i = 0; i < 20; i++) throttle.failure(`user${n++}`, ATTACKER)
  const v = throttle.check('someone', ATTACKER)
  assert.ok(!v.allowed && v.retryAfterMs === 15 * MIN, 'after a quiet day the next lock is short again')
})

test('release ends an account\'s waits from every address at once, and only that account\'s', () => {
  const { throttle } = setup()
  for (let i = 0; i < 6; i++) throttle.failure('alice', ATTACKER) // the pair waits 1 s
  for (let i = 0; i < 4; i++) throttle.failure('alice', `192.0.2.${i + 1}`) // 10 failures from 5 addresses: the account locks
  for (let i = 0; i < 6; i++) throttle.failure('bob', ATTACKER)
  assert.equal(throttle.check('alice', USER_AT).allowed, false)
  assert.equal(throttle.check('alice', ATTACKER).allowed, false)
  throttle.release('alice')
  assert.ok(throttle.check('alice', USER_AT).allowed, 'the account lock is gone')
  assert.ok(throttle.check('alice', ATTACKER).allowed, 'and the pair backoff')
  assert.equal(throttle.check('bob', ATTACKER).allowed, false, 'bob\'s wait stays')
})

test('an IPv6 sprayer rotating addresses inside one /64 is one address', () => {
  const { throttle } = setup()
  for (let i = 0; i < 20; i++) throttle.failure(`user${i}`, `2001:db8:5:6::${(i + 1).toString(16)}`)
  const v = throttle.check('anyone', '2001:db8:5:6:ffff:ffff:ffff:ffff')
  assert.ok(!v.allowed && v.reason === 'address')
  assert.ok(throttle.check('anyone', '2001:db8:5:7::1').allowed)
})

test('failures reported while locked do not stretch the lock', () => {
  const { throttle, clock } = setup()
  for (let i = 0; i < 20; i++) throttle.failure(`user${i}`, ATTACKER)
  for (let i = 0; i < 1000; i++) { throttle.failure('x', ATTACKER); clock.t += 100 } // a caller ignoring check()
  clock.t += 15 * MIN - 100 * SEC
  assert.ok(throttle.check('x', ATTACKER).allowed)
})

test('unknown and known names meet the same limits (nothing tells whether a user exists)', () => {
  const a = setup()
  const b = setup()
  a.throttle.success('alice', USER_AT) // a real account signed in elsewhere
  const seq = (t: SignInThrottle, name: string): unknown[] => {
    const out: unknown[] = []
    for (let i = 0; i < 12; i++) { out.push(t.check(name, ATTACKER)); t.failure(name, ATTACKER) }
    return out
  }
  assert.deepEqual(seq(a.throttle, 'alice'), seq(b.throttle, 'no-such-user'))
})

test('memory stays bounded under 1e5 distinct accounts and addresses', () => {
  const { throttle, clock } = setup()
  const max = DEFAULT_THROTTLE_POLICY.maxEntries
  const started = process.hrtime.bigint()
  for (let i = 0; i < 100_000; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
    throttle.failure(`name${i}`, address)
    if (i % 10 === 0) throttle.success(`name${i}`, address)
    clock.t += 10
  }
  throttle.failure('x'.repeat(1 << 20), ATTACKER) // a 1 MB name is kept as its hash
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const size = throttle.size
  for (const [table, n] of Object.entries(size)) assert.ok(n <= max, `${table}: ${n} records > ${max}`)
  assert.ok(size.pairs >= max * 3 / 4, 'the tables did fill: the bound was exercised')
  // the newest records are the ones kept
  for (let i = 0; i < 5; i++) throttle.failure('name99999', '10.1.134.159')
  assert.equal(throttle.check('name99999', '10.1.134.159').allowed, false)
  assert.ok(ms < 30_000, `1e5 failures took ${ms.toFixed(0)} ms`)
  console.log(`# throttle: 1e5 distinct failures + 1e4 successes in ${ms.toFixed(0)} ms; records ${JSON.stringify(size)}`)
})

test('bad input: non-text names or addresses and bad policies are refused clearly', () => {
  const { throttle } = setup()
  assert.throws(() => throttle.check(42 as unknown as string, ATTACKER), /account name as text/)
  assert.throws(() => throttle.failure('a', undefined as unknown as string), /client address as text/)
  assert.throws(() => new SignInThrottle({ policy: { pairMaxDelayMs: -1 } }), /pairMaxDelayMs/)
  assert.throws(() => new SignInThrottle({ policy: { maxEntries: 0.5 } }), /maxEntries/)
})

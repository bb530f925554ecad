/**
 * The viewer's idle-logoff clock (viewer/src/idle-clock.ts) with an injected time: the warning a
 * minute before the end (half the limit when shorter), input that counts and pings the node at
 * most every 30 s, input ignored while the warning shows, "stay signed in", and the node's own
 * idle and absolute expiry bringing the end earlier.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IdleClock, PING_EVERY_MS, WARNING_MS } from '../../../viewer/src/idle-clock.ts'

const T0 = Date.parse('2026-12-03T10:00:00Z')
const MIN = 60_000
const iso = (t: number): string => new Date(t).toISOString()
const session = (idleMs: number, lastSeen = T0, created = T0) => ({
  limits: { idleMs, absoluteMs: 12 * 60 * MIN },
  expires: { idle: iso(lastSeen + idleMs), absolute: iso(created + 12 * 60 * MIN) }
})

test('15 minutes without input: active, then the warning a minute before, then expired', () => {
  const clock = new IdleClock(session(15 * MIN), T0)
  assert.deepEqual(clock.phase(T0 + 13 * MIN), { phase: 'active', remainingMs: 2 * MIN })
  assert.deepEqual(clock.phase(T0 + 14 * MIN), { phase: 'warning', remainingMs: WARNING_MS })
  assert.deepEqual(clock.phase(T0 + 14 * MIN + 59_000), { phase: 'warning', remainingMs: 1000 })
  assert.deepEqual(clock.phase(T0 + 15 * MIN), { phase: 'expired', remainingMs: 0 })
})

test('input moves the end; a ping is asked for at most every 30 s, and the node\'s answer keeps its expiry in step', () => {
  const clock = new IdleClock(session(15 * MIN), T0)
  assert.equal(clock.input(T0 + 10_000), false, 'pinged at sign-in 10 s ago')
  assert.equal(clock.input(T0 + PING_EVERY_MS), true)
  clock.update(session(15 * MIN, T0 + PING_EVERY_MS), T0 + PING_EVERY_MS)
  assert.equal(clock.input(T0 + PING_EVERY_MS + 1000), false)
  // Input 5 minutes in without a ping since: the node's idle expiry (last ping + 15 min) decides.
  clock.input(T0 + 5 * MIN)
  assert.equal(clock.deadline(), T0 + PING_EVERY_MS + 15 * MIN, 'the node\'s expiry is earlier than the input\'s')
  clock.update(session(15 * MIN, T0 + 5 * MIN), T0 + 5 * MIN)
  assert.equal(clock.deadline(), T0 + 20 * MIN)
  assert.equal(clock.phase(T0 + 18 * MIN).phase, 'active')
})

test('while the warning shows, input does not count; "stay signed in" does', () => {
  const clock = new IdleClock(session(15 * MIN), T0)
  assert.equal(clock.phase(T0 + 14 * MIN + 30_000).phase, 'warning')
  assert.equal(clock.input(T0 + 14 * MIN + 31_000), false)
  assert.equal(clock.phase(T0 + 14 * MIN + 32_000).phase, 'warning', 'a stray mouse move keeps the warning')
  clock.stay(T0 + 14 * MIN + 40_000)
  clock.update(session(15 * MIN, T0 + 14 * MIN + 40_000), T0 + 14 * MIN + 40_000)
  assert.equal(clock.phase(T0 + 15 * MIN + 10_000).phase, 'active')
  assert.equal(clock.deadline(), T0 + 29 * MIN + 40_000)
})

test('a short idle limit warns at half of it; the absolute end comes first when it is sooner', () => {
  const short = new IdleClock(session(MIN), T0)
  assert.equal(short.leadMs, 30_000)
  assert.equal(short.phase(T0 + 29_000).phase, 'active')
  assert.equal(short.phase(T0 + 30_000).phase, 'warning')
  const ending = new IdleClock({ limits: { idleMs: 15 * MIN, absoluteMs: 12 * 60 * MIN }, expires: { idle: iso(T0 + 15 * MIN), absolute: iso(T0 + 5 * MIN) } }, T0)
  ending.input(T0 + 4 * MIN)
  assert.equal(ending.deadline(), T0 + 5 * MIN)
  assert.equal(ending.phase(T0 + 4 * MIN + 30_000).phase, 'warning')
  // An answer without limits (an older node) falls back to 15 minutes from the last input.
  const bare = new IdleClock({}, T0)
  assert.equal(bare.deadline(), T0 + 15 * MIN)
})

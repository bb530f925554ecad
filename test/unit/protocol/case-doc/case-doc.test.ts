/**
 * protocol/case-doc/case-doc.ts: members editing concurrently converge whatever order updates
 * arrive in; a forged update is refused and changes nothing; overwriting and deleting another
 * member's content is accepted (the documented decision); notes are attributed by client id;
 * own updates replayed from the log and snapshots keep the bound client id; many small updates
 * give a snapshot proportional to the content.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { CaseDoc, type CaseEdit } from '../../../../protocol/case-doc/case-doc.ts'
import { CaseUpdateRejectedError } from '../../../../protocol/case-doc/check.ts'
import { DecodeError, InvalidArgumentError } from '../../../../protocol/errors.ts'
import { hx, Rng, throwsPeerpacs } from '../helpers.ts'
import { idOf, members, p, shuffle, study } from './fixtures.ts'

const [alice, bob, carol] = members(3)

const open = (member: Uint8Array): CaseDoc => new CaseDoc({ provider: p, study, member })

interface Sent { update: Uint8Array, signer: Uint8Array }

function change (doc: CaseDoc, fn: (edit: CaseEdit) => void): Sent {
  const update = doc.localChange(fn)
  assert.ok(update !== null, 'the change produced an update')
  return { update, signer: doc.member }
}

/**
 * One random edit, as a member would make it on what it sees. The random draws happen here, not
 * in the returned function: localChange runs it twice (on a probe copy, then for real). A member
 * removes its own notes and sets its own labels; a report deletion may hit another member's
 * text, which localChange refuses (the caller skips it).
 */
function randomEdit (doc: CaseDoc, rng: Rng, step: number): (edit: CaseEdit) => void {
  const report = doc.report()
  const own = doc.notes().filter((n) => n.author === hx(doc.member))
  const mine = `${hx(doc.member).slice(0, 6)}-label${rng.int(0, 3)}`
  const kind = rng.int(0, 6)
  const pick = rng.int(0, 1_000_000)
  const flag = rng.int(0, 1) === 1
  const at = report.length === 0 ? 0 : rng.int(0, report.length - 1)
  const length = report.length === 0 ? 0 : rng.int(1, Math.min(5, report.length - at))
  const insertAt = rng.int(0, report.length)
  return (edit) => {
    switch (kind) {
      case 0: edit.addNote(`note ${step}`, 1_700_000_000_000 + step); break
      case 1: if (own.length > 0) edit.removeNote(own[pick % own.length]!.id); else edit.addNote('first', step); break
      case 2: edit.setLabel(mine, flag ? true : `value ${step}`); break
      case 3: edit.deleteLabel(mine); break
      case 4: if (report.length === 0) edit.insertReport(0, `[${step}]`); else edit.deleteReport(at, length); break
      default: edit.insertReport(insertAt, `[${step}]`)
    }
  }
}

function tryChange (doc: CaseDoc, fn: (edit: CaseEdit) => void): Uint8Array | null {
  try {
    return doc.localChange(fn)
  } catch (error) {
    if (error instanceof CaseUpdateRejectedError && error.reason === 'foreign-deletion') return null
    throw error
  }
}

function assertSame (docs: CaseDoc[]): void {
  const [first, ...rest] = docs
  for (const doc of rest) {
    assert.deepEqual(doc.content(), first!.content())
    assert.deepEqual(doc.stateVector(), first!.stateVector())
    assert.deepEqual(doc.snapshot(), first!.snapshot())
  }
}

test('three members editing concurrently converge, whatever order updates arrive in (seeded)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed)
    const docs = [alice!, bob!, carol!].map(open)
    const inbox: Sent[][] = docs.map(() => [])
    const all: Sent[] = []
    for (let step = 0; step < 150; step++) {
      const i = rng.int(0, 2)
      if (rng.int(0, 2) > 0) {
        const update = tryChange(docs[i]!, randomEdit(docs[i]!, rng, step))
        if (update === null) continue // e.g. deleting a label nobody set, or another member's text
        const sent = { update, signer: docs[i]!.member }
        all.push(sent)
        inbox.forEach((box, j) => { if (j !== i) box.push(sent) })
      } else {
        // deliver a random part of what is waiting, in random order (gaps are held by Yjs)
        const waiting = shuffle(inbox[i]!, rng)
        const now = waiting.slice(0, rng.int(0, waiting.length))
        inbox[i] = waiting.slice(now.length)
        for (const { update, signer } of now) docs[i]!.applyRemote(update, signer)
      }
    }
    docs.forEach((doc, i) => { for (const { update, signer } of shuffle(inbox[i]!, rng)) doc.applyRemote(update, signer) })
    // an observer that gets everything in yet another order, and one that gets it in log order
    const observer = open(carol!)
    for (const { update, signer } of shuffle(all, rng)) observer.applyRemote(update, signer)
    const ordered = open(bob!)
    for (const { update, signer } of all) ordered.applyRemote(update, signer)
    assertSame([...docs, observer, ordered])
    const content = docs[0]!.content()
    assert.ok(content.report.length > 0 || content.notes.length > 0 || Object.keys(content.labels).length > 0, `seed ${seed}: something was written`)
    for (const doc of [...docs, observer, ordered]) assert.equal(doc.clientId, idOf(doc.member), 'each doc kept its bound client id')
  }
})

test('an update carrying another member\'s client id is refused with its reason and changes nothing', () => {
  const a = open(alice!)
  const b = open(bob!)
  const fromAlice = change(a, (e) => { e.addNote('from alice', 1); e.insertReport(0, 'alice text') })
  b.applyRemote(fromAlice.update, alice!)
  const before = { content: b.content(), snapshot: b.snapshot() }

  // Carol's node re-sends Alice's update under its own signature
  const replayed = throwsPeerpacs(() => b.applyRemote(fromAlice.update, carol!), CaseUpdateRejectedError) as CaseUpdateRejectedError
  assert.equal(replayed.reason, 'foreign-struct')
  // Carol writes with Alice's client id (a forged Yjs authorship)
  const forger = new Y.Doc()
  Y.applyUpdate(forger, a.snapshot())
  forger.clientID = idOf(alice!)
  forger.getText('report').insert(0, 'forged ')
  forger.getArray('notes').push([{ author: hx(alice!), time: 2, text: 'alice never wrote this' }])
  const forged = Y.encodeStateAsUpdate(forger, Y.encodeStateVector(new Y.Doc()))
  const error = throwsPeerpacs(() => b.applyRemote(forged, carol!), CaseUpdateRejectedError) as CaseUpdateRejectedError
  assert.equal(error.reason, 'foreign-struct')
  assert.match(error.message, new RegExp(`struct of client ${idOf(alice!)}; the signer's client id is ${idOf(carol!)}`))
  assert.deepEqual(b.content(), before.content)
  assert.deepEqual(b.snapshot(), before.snapshot)
  // garbage and mutations of a real update change nothing either
  const rng = new Rng(9)
  const next = change(a, (e) => { e.insertReport(0, 'more '); e.setLabel('reviewed', true) }).update
  for (let i = 0; i < 500; i++) {
    const input = i % 2 === 0 ? rng.bytes(rng.int(0, 80)) : next.map((byte, j) => j === rng.int(0, next.length - 1) ? rng.int(0, 255) : byte)
    try {
      b.applyRemote(input, bob!)
    } catch (e) {
      assert.ok(e instanceof CaseUpdateRejectedError, String(e))
      assert.notEqual(e.reason, 'apply-failed', e.message)
    }
  }
  assert.deepEqual(b.content(), before.content, 'bob signs none of them, and bob\'s id is in none of them')
})

test('a member cannot overwrite or delete another member\'s content: refused before its own doc changes, and by every receiver', () => {
  const a = open(alice!)
  const b = open(bob!)
  b.applyRemote(change(a, (e) => { e.setLabel('priority', 'routine'); e.insertReport(0, 'No acute findings.'); e.addNote('alice note', 5) }).update, alice!)
  const before = b.content()
  for (const edit of [
    (e: CaseEdit) => e.setLabel('priority', 'urgent'),
    (e: CaseEdit) => e.deleteLabel('priority'),
    (e: CaseEdit) => e.deleteReport(0, 'No acute'.length),
    (e: CaseEdit) => { e.removeNote(b.notes()[0]!.id) }
  ]) {
    throwsPeerpacs(() => b.localChange(edit), CaseUpdateRejectedError, 'foreign-deletion')
    assert.deepEqual(b.content(), before, 'the refused edit left bob\'s document unchanged')
  }
  // Bob's own additions are fine.
  a.applyRemote(change(b, (e) => { e.setLabel('bob-priority', 'urgent'); e.insertReport(0, 'Suspicious. ') }).update, bob!)
  assert.deepEqual(a.content(), b.content())
  // An update crafted with bob's client id that deletes alice's text is refused by the receiver.
  const forged = new Y.Doc()
  Y.applyUpdate(forged, a.snapshot())
  forged.clientID = idOf(bob!)
  const sv = Y.encodeStateVector(forged)
  forged.getText('report').delete(a.report().indexOf('No acute'), 5)
  const deleting = Y.encodeStateAsUpdate(forged, sv)
  const snapshot = a.content()
  throwsPeerpacs(() => a.applyRemote(deleting, bob!), CaseUpdateRejectedError, 'foreign-deletion')
  assert.deepEqual(a.content(), snapshot)
})

test('a note counts only when its author is the member whose client id inserted it', () => {
  const a = open(alice!)
  const raw = new Y.Doc()
  raw.clientID = idOf(bob!)
  raw.getArray('notes').push([
    { author: hx(alice!), time: 1, text: 'claims to be alice' },
    { author: hx(bob!), time: 2, text: 'bob, truly' },
    { author: hx(bob!), time: -1, text: 'bad time' },
    { author: hx(bob!), time: 3 },
    'not an object'
  ])
  raw.getMap('labels').set('count', 3)
  raw.getMap('labels').set('ok', false)
  a.applyRemote(Y.encodeStateAsUpdate(raw), bob!)
  assert.deepEqual(a.notes(), [{ id: `${idOf(bob!)}:1`, author: hx(bob!), time: 2, text: 'bob, truly' }])
  assert.deepEqual(a.labels(), { ok: false })
  // bob's note is bob's: alice cannot remove it; a note id that does not exist removes nothing
  throwsPeerpacs(() => a.localChange((e) => { e.removeNote(`${idOf(bob!)}:1`) }), CaseUpdateRejectedError, 'foreign-deletion')
  assert.equal(a.notes().length, 1)
  assert.equal(a.localChange((e) => assert.equal(e.removeNote(`${idOf(bob!)}:99`), false)), null)
})

test('replaying this member\'s own updates (a restart) keeps its client id and continues its clock', () => {
  const a = open(alice!)
  const b = open(bob!)
  const log: Sent[] = []
  for (let i = 0; i < 5; i++) {
    const sent = change(a, (e) => e.insertReport(a.report().length, `a${i} `))
    log.push(sent)
    b.applyRemote(sent.update, alice!)
    const reply = change(b, (e) => e.insertReport(0, `b${i} `))
    log.push(reply)
    a.applyRemote(reply.update, bob!)
  }
  const restarted = open(alice!)
  for (const { update, signer } of log) restarted.applyRemote(update, signer)
  for (const { update, signer } of log) restarted.applyRemote(update, signer) // twice: idempotent
  assert.equal(restarted.clientId, idOf(alice!))
  assert.deepEqual(restarted.content(), a.content())
  const after = change(restarted, (e) => e.addNote('after restart', 9))
  b.applyRemote(after.update, alice!)
  a.applyRemote(after.update, alice!)
  assertSame([restarted, a, b])
})

test('snapshot and fromSnapshot restore a document that goes on with its bound id', () => {
  const a = open(alice!)
  const b = open(bob!)
  b.applyRemote(change(a, (e) => { e.addNote('n', 1); e.setLabel('x', true) }).update, alice!)
  a.applyRemote(change(b, (e) => e.insertReport(0, 'bob report')).update, bob!)
  const restored = CaseDoc.fromSnapshot({ provider: p, study, member: alice! }, a.snapshot())
  assert.equal(restored.clientId, idOf(alice!))
  assert.deepEqual(restored.content(), a.content())
  const next = change(restored, (e) => e.insertReport(0, 'alice: '))
  b.applyRemote(next.update, alice!)
  assert.equal(b.report(), 'alice: bob report')
  throwsPeerpacs(() => CaseDoc.fromSnapshot({ provider: p, study, member: alice! }, new Uint8Array([1, 2, 3])), DecodeError)
})

test('localChange: null when nothing changed; a callback that throws part-way changes nothing', () => {
  const a = open(alice!)
  const b = open(bob!)
  assert.equal(a.localChange(() => {}), null)
  assert.throws(() => a.localChange((e) => { e.insertReport(0, 'lost'); throw new Error('boom') }), /boom/)
  assert.equal(a.report(), '')
  assert.ok(a.localChange((e) => e.insertReport(0, 'kept')) !== null)
  throwsPeerpacs(() => a.localChange((e) => e.setLabel('bad', 3 as never)), InvalidArgumentError)
  change(a, (e) => e.insertReport(4, '!'))
  b.applyRemote(a.snapshot(), alice!)
  assert.equal(b.report(), 'kept!')
  throwsPeerpacs(() => a.localChange((e) => e.insertReport(99, 'x')), InvalidArgumentError)
  throwsPeerpacs(() => a.localChange((e) => e.deleteReport(0, 99)), InvalidArgumentError)
  throwsPeerpacs(() => a.localChange((e) => e.addNote('x'.repeat(64 * 1024 + 1), 1)), InvalidArgumentError)
  assert.equal(a.localChange(() => {}), null, 'refused arguments changed nothing')
})

test('onChange reports local and remote changes until unsubscribed', () => {
  const a = open(alice!)
  const b = open(bob!)
  const seen: string[] = []
  const off = b.onChange((c) => seen.push(c.local ? 'local' : `remote ${hx(c.signer!).slice(0, 8)}`))
  b.applyRemote(change(a, (e) => e.addNote('hi', 1)).update, alice!)
  change(b, (e) => e.addNote('yo', 2))
  off()
  change(b, (e) => e.addNote('quiet', 3))
  assert.deepEqual(seen, [`remote ${hx(alice!).slice(0, 8)}`, 'local'])
})

function manySmallUpdates (turn: number, anywhere: boolean): { observer: CaseDoc, updates: Sent[] } {
  const a = open(alice!)
  const b = open(bob!)
  const observer = open(carol!)
  const rng = new Rng(5)
  const updates: Sent[] = []
  for (let i = 0; i < 2000; i++) {
    const [writer, reader] = Math.floor(i / turn) % 2 === 0 ? [a, b] : [b, a]
    const at = anywhere && rng.int(0, 3) === 0 ? rng.int(0, writer.report().length) : writer.report().length
    const sent = change(writer, (e) => e.insertReport(at, 'ab'))
    reader.applyRemote(sent.update, sent.signer)
    updates.push(sent)
  }
  for (const { update, signer } of updates) observer.applyRemote(update, signer)
  assertSame([a, b, observer])
  assert.equal(observer.report().length, 4000)
  return { observer, updates }
}

test('many small updates: typing in turns gives a snapshot about the size of the text', () => {
  const { observer, updates } = manySmallUpdates(50, false)
  const snapshot = observer.snapshot().length
  const sum = updates.reduce((n, u) => n + u.update.length, 0)
  assert.ok(snapshot < 4000 + 1024, `snapshot of ${snapshot} bytes for 4000 characters`)
  assert.ok(snapshot < sum / 4, `snapshot ${snapshot} vs ${sum} bytes of updates`)
})

test('many small updates, two writers interleaving anywhere: the snapshot grows by a bounded amount per update', () => {
  const { observer } = manySmallUpdates(1, true)
  const snapshot = observer.snapshot().length
  // every update is its own item here (neighbours have different authors): at most ~16 bytes each
  assert.ok(snapshot < 4000 + 16 * 2000, `snapshot of ${snapshot} bytes for 2000 updates of 4000 characters`)
  // the observer did not write this text, so it cannot delete it
  throwsPeerpacs(() => observer.localChange((e) => e.deleteReport(10, 3990)), CaseUpdateRejectedError, 'foreign-deletion')
  assert.equal(observer.snapshot().length, snapshot)
  const restored = CaseDoc.fromSnapshot({ provider: p, study, member: carol! }, observer.snapshot())
  assert.deepEqual(restored.content(), observer.content())
})

test('wrong-typed arguments are InvalidArgumentError', () => {
  for (const bad of [null, {}, { provider: p, study, member: new Uint8Array(31) }, { provider: p, study: 'x', member: alice }, { provider: {}, study, member: alice }]) {
    throwsPeerpacs(() => new CaseDoc(bad as never), InvalidArgumentError)
  }
  const a = open(alice!)
  throwsPeerpacs(() => a.applyRemote('x' as never, bob!), InvalidArgumentError)
  throwsPeerpacs(() => a.applyRemote(new Uint8Array(2), new Uint8Array(31)), InvalidArgumentError)
  throwsPeerpacs(() => a.localChange(null as never), InvalidArgumentError)
})

/**
 * Case documents travel in the log: each Yjs update is sealed with the study's key and signed
 * as a case.update op. Three members edit one study's notes, labels and report concurrently with
 * partial syncs; the ops reach three replicas in random orders; each replica rebuilds the Y.Doc
 * from its log state and all agree. An update that a member signs but that carries another
 * member's Yjs client id is accepted by the log (the signer may write) and rejected by every
 * replica's document check, identically.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { CaseDoc, CaseUpdateRejectedError, caseClientId, openCaseUpdate, sealCaseUpdate } from '../../../../protocol/case-doc/index.ts'
import type { OrgId } from '../../../../protocol/genesis.ts'
import type { OpLog, SignedOp } from '../../../../protocol/log/index.ts'
import type { StudyId } from '../../../../protocol/study-id.ts'
import { p, replicaOf, World, type SimNode } from './fixtures.ts'

function rebuild (log: OpLog, study: StudyId, dataKey: Uint8Array, observer: Uint8Array): { doc: CaseDoc, rejected: string[] } {
  const doc = new CaseDoc({ provider: p, study, member: observer })
  const rejected: string[] = []
  for (const id of log.state.caseUpdates.get(study) ?? []) {
    const op = log.get(id)! as SignedOp & { type: 'case.update' }
    const update = openCaseUpdate(p, dataKey, { org: log.orgId as OrgId, study, author: op.author }, op.body.sealed)
    try {
      doc.applyRemote(update, op.author)
    } catch (error) {
      if (!(error instanceof CaseUpdateRejectedError)) throw error
      rejected.push(`${id}:${error.reason}`)
    }
  }
  return { doc, rejected }
}

for (const seed of [11, 12, 13]) {
  test(`case documents converge through the signed log (seed ${seed})`, () => {
    const w = new World(seed)
    const f = w.founder
    const b = w.node()
    const c = w.node()
    for (const m of [b, c]) f.write('member.add', { member: m.key.publicKey, role: 'site', level: 'write', scope: 'org' })
    const study = w.study()
    f.write('study.register', w.registerBody(f, study))
    b.pull(f)
    c.pull(f)
    const dataKey = w.rng.bytes(32)
    const org = f.log.orgId as OrgId
    const docs = new Map<SimNode, CaseDoc>([f, b, c].map((n) => [n, new CaseDoc({ provider: p, study, member: n.key.publicKey })]))
    const send = (n: SimNode, update: Uint8Array | null): void => {
      if (update === null) return
      n.write('case.update', { study, sealed: sealCaseUpdate(p, w.random, dataKey, { org, study, author: n.key.publicKey }, update) })
    }
    const nodes = [f, b, c]
    for (let round = 0; round < 12; round++) {
      const n = nodes[w.rng.u32() % 3]!
      const doc = docs.get(n)!
      send(n, doc.localChange((e) => {
        e.addNote(`note ${round} by ${n.id.slice(0, 6)}`, 1000 + round)
        e.setLabel(`${n.id.slice(0, 6)}-label-${round % 4}`, `${round}`)
        e.insertReport(0, `r${round} `)
      }))
      // A partial sync: one node pulls from another and applies what it learned to its doc.
      const to = nodes[w.rng.u32() % 3]!
      const from = nodes[w.rng.u32() % 3]!
      if (to !== from) {
        to.pull(from)
        const rebuilt = rebuild(to.log, study, dataKey, to.key.publicKey)
        assert.deepEqual(rebuilt.rejected, [])
      }
    }
    // A forged update: B signs it, but its structs carry C's client id.
    const forger = new Y.Doc()
    forger.clientID = caseClientId(p, c.key.publicKey, study)
    forger.getArray('notes').push([{ author: 'forged', time: 1, text: 'written as C' }])
    send(b, Y.encodeStateAsUpdate(forger))

    const all = new Map<string, SignedOp>()
    for (const n of nodes) for (const op of n.log.ops()) all.set(op.idHex, op)
    const ops = [...all.values()].filter((op) => op.type !== 'org.genesis')
    const outcomes = [0, 1, 2].map(() => {
      const shuffled = [...ops]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = w.rng.u32() % (i + 1)
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      const log = replicaOf(w.genesis, shuffled)
      assert.equal(log.pendingCount, 0)
      return rebuild(log, study, dataKey, w.node().key.publicKey)
    })
    const contents = outcomes.map((o) => JSON.stringify(o.doc.content()))
    assert.equal(new Set(contents).size, 1, 'every replica has the same document')
    for (const o of outcomes) {
      assert.equal(o.rejected.length, 1, 'the forged update is rejected')
      assert.match(o.rejected[0]!, /foreign-struct$/)
    }
    const content = outcomes[0]!.doc.content()
    assert.ok(!JSON.stringify(content).includes('written as C'))
    assert.equal(content.notes.length, 12)
    assert.equal(new Set(content.notes.map((n) => n.author)).size >= 2, true)
  })
}

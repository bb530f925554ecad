/** API tokens (node/daemon/tokens.ts): shown once, stored hashed, verified, revocable. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TokenStore } from '../../../node/daemon/tokens.ts'
import { provider, random } from '../../../node/runtime.ts'
import { MemoryKvStore } from '../../../node/store/kv-memory.ts'

test('a created token verifies; its secret is not stored; revoking stops it at once', async () => {
  const kv = new MemoryKvStore()
  const store = new TokenStore(kv, provider, random)
  const { record, token } = await store.create('ohif-viewer')
  assert.match(token, /^ppt_[0-9a-f]{16}_[0-9a-f]{64}$/)
  assert.equal((await store.verify(token))?.name, 'ohif-viewer')
  const secret = token.split('_')[2]!
  for await (const [, value] of kv.entries(['token'])) {
    assert.ok(!Buffer.from(value).toString('latin1').includes(secret), 'secret not stored')
  }
  await store.revoke('ohif-viewer')
  assert.equal(await store.verify(token), undefined)
  const list = await store.list()
  assert.equal(list.length, 1)
  assert.equal(list[0]!.id, record.id)
  assert.ok(list[0]!.revoked !== undefined)
})

test('wrong, altered and malformed bearers are refused', async () => {
  const store = new TokenStore(new MemoryKvStore(), provider, random)
  const { token } = await store.create('a')
  const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')
  for (const bad of [flipped, '', 'ppt_', token + '0', token.toUpperCase(), 'Bearer ' + token, token.replace(/_[0-9a-f]{16}_/, '_0000000000000000_')]) {
    assert.equal(await store.verify(bad), undefined, bad.slice(0, 30))
  }
})

test('names are checked and unique among live tokens; revoke of an unknown token is NOT_FOUND', async () => {
  const store = new TokenStore(new MemoryKvStore(), provider, random)
  await store.create('viewer')
  await assert.rejects(store.create('viewer'), /already exists/)
  await assert.rejects(store.create(''), /not allowed/)
  await assert.rejects(store.create('x'.repeat(65)), /not allowed/)
  await assert.rejects(store.create('bad\nname'), /not allowed/)
  await assert.rejects(store.revoke('nobody'), { code: 'NOT_FOUND' })
  await store.revoke('viewer')
  await store.create('viewer')
  assert.equal((await store.list()).length, 2)
})

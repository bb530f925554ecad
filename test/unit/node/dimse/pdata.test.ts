/**
 * P-DATA-TF framing: one PDV per PDU, fragments within the peer's Maximum Length, the message
 * control header's command and last bits, and the bytes back whole when the PDVs are joined.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pdataPdus, sendLimit, UNLIMITED_PDU } from '../../../../node/dimse/pdata.ts'

interface Pdv { pduLength: number, context: number, control: number, value: Buffer }

/** Reads P-DATA-TF PDUs back as PS3.8 9.3.5 lays them out, checking every length. */
function readPdus (bytes: Buffer): Pdv[] {
  const out: Pdv[] = []
  let at = 0
  while (at < bytes.length) {
    assert.equal(bytes[at], 0x04, 'PDU type P-DATA-TF')
    assert.equal(bytes[at + 1], 0, 'reserved')
    const pduLength = bytes.readUInt32BE(at + 2)
    const itemLength = bytes.readUInt32BE(at + 6)
    assert.equal(itemLength + 4, pduLength, 'one PDV fills its PDU')
    out.push({ pduLength, context: bytes[at + 10]!, control: bytes[at + 11]!, value: bytes.subarray(at + 12, at + 6 + pduLength) })
    at += 6 + pduLength
  }
  assert.equal(at, bytes.length)
  return out
}

test('a command that fits goes in one PDU, flagged command and last', () => {
  const pdvs = readPdus(pdataPdus(3, true, Buffer.from('abcd'), 16384))
  assert.deepEqual(pdvs, [{ pduLength: 10, context: 3, control: 0x03, value: Buffer.from('abcd') }])
})

test('a dataset is cut into fragments of the Maximum Length less the PDV header; only the last is flagged', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
  for (const max of [7, 100, 994, 995, 1000, 1006, 1007]) {
    const pdvs = readPdus(pdataPdus(5, false, data, max))
    assert.ok(pdvs.every((p) => p.pduLength <= max), `max ${max}: no PDU over the limit`)
    assert.ok(pdvs.every((p) => p.context === 5))
    assert.deepEqual(pdvs.map((p) => p.control), [...pdvs.slice(1).map(() => 0x00), 0x02], `max ${max}: only the last fragment is last`)
    assert.deepEqual(Buffer.concat(pdvs.map((p) => p.value)), data, `max ${max}: the bytes back whole`)
    assert.equal(pdvs.length, Math.ceil(1000 / (max - 6)))
  }
  assert.deepEqual(readPdus(pdataPdus(1, false, Buffer.alloc(0), 100)).map((p) => [p.value.length, p.control]), [[0, 0x02]], 'an empty dataset is one empty last fragment')
})

test('the limit: 0 means none announced (4 MiB, as the library sends), larger ones are capped there', () => {
  assert.equal(sendLimit(0), UNLIMITED_PDU)
  assert.equal(sendLimit(16384), 16384)
  assert.equal(sendLimit(64 * 1024 * 1024), UNLIMITED_PDU)
})

test('a context id that cannot be one, or a limit too small for a fragment, is refused', () => {
  for (const [context, max] of [[0, 100], [2, 100], [257, 100], [1.5, 100], [1, 6], [1, Number.NaN]] as const) {
    assert.throws(() => pdataPdus(context, true, Buffer.from('x'), max), { code: 'INVALID_ARGUMENT' }, `${context} ${max}`)
  }
})

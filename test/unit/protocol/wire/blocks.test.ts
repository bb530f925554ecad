/**
 * wire.ts: exact bytes of each frame kind (so a second implementation can check itself against
 * them), round trips, and a table of malformed frames that every decoder must refuse with a
 * BlocksProtocolError saying what arrived.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BLOCK_SIZE, type BlobId } from '../../../../protocol/blob-id.ts'
import { concatBytes } from '../../../../protocol/bytes.ts'
import {
  BlocksProtocolError, decodeAnswer, decodeRequest, encodeBlock, encodeBlockHeader, encodeError, encodeNotHeld,
  encodeRefused, encodeRequest, encodeVarint, MAX_ANSWER_FRAME, MAX_REQUEST_BLOCKS, MAX_REQUEST_FRAME
} from '../../../../protocol/wire/blocks.ts'

const id = '0123456789abcdef'.repeat(4) as BlobId
const idHex = id

function hex (bytes: Uint8Array): string { return Buffer.from(bytes).toString('hex') }
function bytes (h: string): Uint8Array { return new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex')) }

describe('exact encodings', () => {
  test('RANGE for consecutive indexes', () => {
    const frame = encodeRequest(id, [7, 8, 9])
    assert.equal(hex(frame), '01' + idHex + '00000007' + '0003')
    assert.deepEqual(decodeRequest(frame), { type: 'request', blob: id, indexes: [7, 8, 9] })
  })

  test('LIST otherwise', () => {
    const frame = encodeRequest(id, [1, 5, 0xffffffff])
    assert.equal(hex(frame), '02' + idHex + '0003' + '00000001' + '00000005' + 'ffffffff')
    assert.deepEqual(decodeRequest(frame), { type: 'request', blob: id, indexes: [1, 5, 0xffffffff] })
  })

  test('the largest request is MAX_REQUEST_FRAME bytes', () => {
    const indexes = Array.from({ length: MAX_REQUEST_BLOCKS }, (_, i) => i * 2)
    const frame = encodeRequest(id, indexes)
    assert.equal(frame.length, MAX_REQUEST_FRAME)
    assert.deepEqual(decodeRequest(frame).indexes, indexes)
  })

  test('BLOCK, NOT_HELD, REFUSED, ERROR', () => {
    assert.equal(hex(encodeBlockHeader(258)), '8100000102')
    assert.equal(hex(encodeBlock(1, Uint8Array.of(0xaa, 0xbb))), '8100000001aabb')
    const full = new Uint8Array(BLOCK_SIZE).fill(7)
    const frame = encodeBlock(0xffffffff, full)
    assert.equal(frame.length, MAX_ANSWER_FRAME)
    const block = decodeAnswer(frame)
    assert.ok(block.type === 'block' && block.index === 0xffffffff && block.bytes.length === BLOCK_SIZE && block.bytes[BLOCK_SIZE - 1] === 7)
    assert.equal(hex(encodeNotHeld(id)), '82' + idHex)
    assert.deepEqual(decodeAnswer(encodeNotHeld(id)), { type: 'not-held', blob: id })
    assert.equal(hex(encodeRefused(id)), '83' + idHex)
    assert.deepEqual(decodeAnswer(encodeRefused(id)), { type: 'refused', blob: id })
    assert.equal(hex(encodeError('out-of-range', 'no')), '8402' + '6e6f')
    assert.deepEqual(decodeAnswer(encodeError('unavailable', 'disk é')), { type: 'error', code: 'unavailable', message: 'disk é' })
    assert.deepEqual(decodeAnswer(encodeError('bad-request', '')), { type: 'error', code: 'bad-request', message: '' })
  })

  test('an ERROR message is cut to 256 bytes on a character boundary', () => {
    const frame = encodeError('unavailable', 'é'.repeat(200))
    assert.equal(frame.length, 2 + 256)
    const long = encodeError('unavailable', 'a' + 'é'.repeat(200))
    assert.equal(long.length, 2 + 255, 'a two-byte character is not split')
    const answer = decodeAnswer(long)
    assert.ok(answer.type === 'error' && answer.message === 'a' + 'é'.repeat(127))
  })

  test('varints: minimal unsigned LEB128', () => {
    assert.equal(hex(encodeVarint(0)), '00')
    assert.equal(hex(encodeVarint(127)), '7f')
    assert.equal(hex(encodeVarint(128)), '8001')
    assert.equal(hex(encodeVarint(MAX_ANSWER_FRAME)), '858040')
    assert.throws(() => encodeVarint(-1), BlocksProtocolError)
  })
})

describe('malformed requests are refused', () => {
  const range = encodeRequest(id, [0])
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /empty frame/],
    ['unknown kind', concatBytes(Uint8Array.of(0x03), range.subarray(1)), /unknown kind 0x03/],
    ['an answer kind', encodeNotHeld(id), /unknown kind 0x82/],
    ['range too short', range.subarray(0, 38), /range request: expected 39 bytes, got 38/],
    ['range too long', concatBytes(range, Uint8Array.of(0)), /expected 39 bytes, got 40/],
    ['range of 0', bytes('01' + idHex + '00000000' + '0000'), /count 0, expected 1 … 64/],
    ['range of 65', bytes('01' + idHex + '00000000' + '0041'), /count 65/],
    ['range past u32', bytes('01' + idHex + 'ffffffff' + '0002'), /run past index 4294967295/],
    ['list header cut', bytes('02' + idHex + '00'), /shorter than its 35-byte header/],
    ['list of 0', bytes('02' + idHex + '0000'), /0 indexes, expected 1 … 64/],
    ['list claiming 65', bytes('02' + idHex + '0041' + '00000000'), /65 indexes, expected 1 … 64/],
    ['list shorter than its count', bytes('02' + idHex + '0002' + '00000001'), /list request of 2 indexes: expected 43 bytes, got 39/],
    ['list longer than its count', bytes('02' + idHex + '0001' + '00000001' + '00'), /expected 39 bytes, got 40/],
    ['list with a repeat', bytes('02' + idHex + '0002' + '00000001' + '00000001'), /strictly increasing, got 1 after 1/],
    ['list decreasing', bytes('02' + idHex + '0002' + '00000002' + '00000001'), /strictly increasing, got 1 after 2/],
    ['over the largest request', new Uint8Array(MAX_REQUEST_FRAME + 1).fill(2), /more than the 291/]
  ]
  for (const [name, frame, message] of cases) {
    test(name, () => {
      assert.throws(() => decodeRequest(frame), (error: unknown) => {
        assert.ok(error instanceof BlocksProtocolError, `${name}: ${String(error)}`)
        assert.equal(error.code, 'BLOCKS_PROTOCOL')
        assert.match(error.message, message)
        return true
      })
    })
  }
})

describe('malformed answers are refused', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /empty frame/],
    ['unknown kind', Uint8Array.of(0x85, 0), /unknown kind 0x85/],
    ['a request kind', encodeRequest(id, [0]), /unknown kind 0x01/],
    ['block without bytes', bytes('8100000000'), /at least one byte of block/],
    ['block header cut', bytes('81000000'), /5-byte header/],
    ['block over 1 MiB', concatBytes(bytes('8100000000'), new Uint8Array(BLOCK_SIZE + 1)), /more than the 1048581/],
    ['not-held too short', encodeNotHeld(id).subarray(0, 32), /not-held: expected 33 bytes, got 32/],
    ['refused too long', concatBytes(encodeRefused(id), Uint8Array.of(1)), /refused: expected 33 bytes, got 34/],
    ['error without code', Uint8Array.of(0x84), /expected a code byte/],
    ['error with unknown code', Uint8Array.of(0x84, 9), /unknown code 9/],
    ['error with code 0', Uint8Array.of(0x84, 0), /unknown code 0/],
    ['error message too long', concatBytes(Uint8Array.of(0x84, 1), new Uint8Array(257).fill(0x61)), /257-byte message/],
    ['error message not UTF-8', Uint8Array.of(0x84, 1, 0xc3), /not valid UTF-8/]
  ]
  for (const [name, frame, message] of cases) {
    test(name, () => {
      assert.throws(() => decodeAnswer(frame), (error: unknown) => {
        assert.ok(error instanceof BlocksProtocolError, `${name}: ${String(error)}`)
        assert.match(error.message, message)
        return true
      })
    })
  }
})

describe('encoders refuse what they cannot encode', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['no indexes', () => encodeRequest(id, []), /1 to 64 blocks, got 0/],
    ['65 indexes', () => encodeRequest(id, Array.from({ length: 65 }, (_, i) => i)), /got 65/],
    ['a negative index', () => encodeRequest(id, [-1]), /index 0 is -1/],
    ['a fractional index', () => encodeRequest(id, [1.5]), /index 0 is 1.5/],
    ['an index past u32', () => encodeRequest(id, [2 ** 32]), /index 0 is 4294967296/],
    ['unordered', () => encodeRequest(id, [2, 1]), /strictly increasing/],
    ['an empty block', () => encodeBlock(0, new Uint8Array(0)), /0 bytes, expected 1/],
    ['an oversized block', () => encodeBlock(0, new Uint8Array(BLOCK_SIZE + 1)), /1048577 bytes/],
    ['an unknown error code', () => encodeError('nope' as 'unavailable', 'x'), /unknown code "nope"/]
  ]
  for (const [name, fn, message] of cases) {
    test(name, () => { assert.throws(fn, (error: unknown) => error instanceof BlocksProtocolError && message.test(error.message)) })
  }
  test('a malformed blob id', () => { assert.throws(() => encodeRequest('xyz' as BlobId, [0]), { code: 'DECODE_FAILED' }) })
})

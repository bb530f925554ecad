/**
 * Chunked authenticated encryption of one object (a DICOM instance), so memory stays flat for
 * any size and damage is caught chunk by chunk. It is the STREAM construction (Hoang et al.),
 * as used by age and libsodium's secretstream:
 *
 *   header  = "PPS1" ‖ chunkSize (u32 BE) ‖ salt (16 random bytes)                 24 bytes
 *   K       = HKDF-SHA256(ikm = data key, salt = salt, info = "peerpacs/v1/stream-key")
 *   N_i     = 0^16 ‖ i (7 bytes BE) ‖ last (0x01 on the final chunk, 0x00 before it)
 *   chunk_i = XChaCha20-Poly1305(K, N_i, plaintext_i, aad = header)          |plaintext_i| + 16
 *
 * The plaintext splits into ⌈n / chunkSize⌉ chunks (a single empty chunk when n = 0); only the
 * final chunk may be short, and only it has last = 1. So: a flipped bit fails that chunk's tag;
 * reordering changes i; truncation at a chunk boundary loses the last flag; appending turns the
 * real final chunk into a non-final one; a chunk from another object has another K (the salt);
 * altering the header changes K or the AAD. Because the first 16 nonce bytes are zero, the
 * XChaCha subkey HChaCha20(K, 0^16) is computed once per object and each chunk is one
 * ChaCha20-Poly1305 call, which node/ runs natively.
 */
import { concatBytes, expectBytes, expectInteger, expectObject, readUintBE, uintBE } from './bytes.ts'
import { AuthenticationError, DecodeError, InvalidArgumentError } from './errors.ts'
import { expectProvider, type CryptoProvider } from './crypto-provider.ts'
import { hkdfSha256, LABELS } from './kdf.ts'
import { draw, type RandomSource } from './random.ts'
import { hchacha20, TAG_LENGTH } from './xchacha.ts'

export const STREAM_MAGIC = new Uint8Array([0x50, 0x50, 0x53, 0x31]) // "PPS1"
export const STREAM_HEADER_LENGTH = 24
export const STREAM_SALT_LENGTH = 16
export const DEFAULT_CHUNK_SIZE = 64 * 1024
export const MIN_CHUNK_SIZE = 1024
/** Bounds what a hostile header can make a reader allocate. */
export const MAX_CHUNK_SIZE = 8 * 1024 * 1024

/** Size of the sealed stream for a plaintext of `length` bytes. */
export function sealedLength (length: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  expectInteger(length, 'sealedLength(length)')
  expectInteger(chunkSize, 'sealedLength(chunkSize)', MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
  const chunks = Math.max(1, Math.ceil(length / chunkSize))
  return STREAM_HEADER_LENGTH + length + chunks * TAG_LENGTH
}

function chunkNonce (index: number, last: boolean): Uint8Array {
  // The 12-byte ChaCha20-Poly1305 nonce that goes with subkey HChaCha20(K, 0^16): 0^4 ‖ i ‖ last.
  const nonce = new Uint8Array(12)
  nonce.set(uintBE(index, 7), 4)
  nonce[11] = last ? 1 : 0
  return nonce
}

function streamSubkey (dataKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return hchacha20(hkdfSha256(dataKey, salt, LABELS.streamKey), new Uint8Array(16))
}

export interface StreamSealerOptions {
  dataKey: Uint8Array
  provider: CryptoProvider
  random: RandomSource
  chunkSize?: number
}

/**
 * Encrypts a plaintext pushed in pieces of any size. Write `header`, then every returned piece,
 * in order. With a provider that has chachaSealParts a chunk comes back as two pieces
 * (ciphertext, then tag): the same bytes, one copy less.
 */
export class StreamSealer {
  readonly header: Uint8Array
  readonly #provider: CryptoProvider
  readonly #subkey: Uint8Array
  readonly #buffer: Uint8Array
  #fill = 0
  #index = 0
  #finished = false

  constructor (options: StreamSealerOptions) {
    expectObject(options, 'StreamSealer(options)')
    expectBytes(options.dataKey, 'StreamSealer(dataKey)', 32)
    this.#provider = expectProvider(options.provider, 'StreamSealer(provider)')
    const chunkSize = expectInteger(options.chunkSize ?? DEFAULT_CHUNK_SIZE, 'StreamSealer(chunkSize)', MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
    const salt = draw(options.random, STREAM_SALT_LENGTH, 'StreamSealer')
    this.header = concatBytes(STREAM_MAGIC, uintBE(chunkSize, 4), salt)
    this.#subkey = streamSubkey(options.dataKey, salt)
    this.#buffer = new Uint8Array(chunkSize)
  }

  push (data: Uint8Array): Uint8Array[] {
    expectBytes(data, 'StreamSealer.push(data)')
    if (this.#finished) throw new InvalidArgumentError('StreamSealer.push after finish')
    const out: Uint8Array[] = []
    let offset = 0
    while (offset < data.length) {
      // A full buffer is sealed only once more data arrives: then we know it is not the last.
      if (this.#fill === this.#buffer.length) this.#sealInto(out, false)
      const n = Math.min(data.length - offset, this.#buffer.length - this.#fill)
      this.#buffer.set(data.subarray(offset, offset + n), this.#fill)
      this.#fill += n
      offset += n
    }
    return out
  }

  finish (): Uint8Array {
    if (this.#finished) throw new InvalidArgumentError('StreamSealer.finish called twice')
    this.#finished = true
    return this.#seal(true)
  }

  /** The final chunk as pieces (see push); finish() is the same bytes in one array. */
  finishParts (): Uint8Array[] {
    if (this.#finished) throw new InvalidArgumentError('StreamSealer.finish called twice')
    this.#finished = true
    const out: Uint8Array[] = []
    this.#sealInto(out, true)
    return out
  }

  #seal (last: boolean): Uint8Array {
    const sealed = this.#provider.chachaSeal(this.#subkey, chunkNonce(this.#index, last), this.#buffer.subarray(0, this.#fill), this.header)
    this.#index++
    this.#fill = 0
    return sealed
  }

  #sealInto (out: Uint8Array[], last: boolean): void {
    if (this.#provider.chachaSealParts === undefined) { out.push(this.#seal(last)); return }
    // The plaintext buffer is reused for the next chunk, so a provider must not return views of it.
    const [ciphertext, tag] = this.#provider.chachaSealParts(this.#subkey, chunkNonce(this.#index, last), this.#buffer.subarray(0, this.#fill), this.header)
    this.#index++
    this.#fill = 0
    out.push(ciphertext, tag)
  }
}

export interface StreamOpenerOptions {
  dataKey: Uint8Array
  provider: CryptoProvider
}

/** Decrypts a sealed stream pushed in pieces of any size; every returned piece is authenticated. */
export class StreamOpener {
  readonly #dataKey: Uint8Array
  readonly #provider: CryptoProvider
  #header: Uint8Array | undefined
  #subkey: Uint8Array | undefined
  #buffer: Uint8Array = new Uint8Array(STREAM_HEADER_LENGTH)
  #fill = 0
  #index = 0
  #finished = false
  /** Set by the first failure: nothing more is ever returned from a stream that failed once. */
  #failure: Error | undefined

  constructor (options: StreamOpenerOptions) {
    expectObject(options, 'StreamOpener(options)')
    this.#dataKey = expectBytes(options.dataKey, 'StreamOpener(dataKey)', 32)
    this.#provider = expectProvider(options.provider, 'StreamOpener(provider)')
  }

  push (data: Uint8Array): Uint8Array[] {
    expectBytes(data, 'StreamOpener.push(data)')
    if (this.#failure !== undefined) throw this.#failure
    if (this.#finished) throw new InvalidArgumentError('StreamOpener.push after finish')
    try {
      return this.#push(data)
    } catch (error) {
      this.#failure = error as Error
      throw error
    }
  }

  #push (data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let offset = 0
    while (offset < data.length) {
      if (this.#header !== undefined && this.#fill === this.#buffer.length) out.push(this.#open(false))
      const n = Math.min(data.length - offset, this.#buffer.length - this.#fill)
      this.#buffer.set(data.subarray(offset, offset + n), this.#fill)
      this.#fill += n
      offset += n
      if (this.#header === undefined && this.#fill === STREAM_HEADER_LENGTH) this.#readHeader()
    }
    return out
  }

  finish (): Uint8Array {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#finished) throw new InvalidArgumentError('StreamOpener.finish called twice')
    this.#finished = true
    try {
      return this.#finish()
    } catch (error) {
      this.#failure = error as Error
      throw error
    }
  }

  #finish (): Uint8Array {
    if (this.#header === undefined) {
      throw new AuthenticationError(`sealed stream is truncated: ${this.#fill} bytes, shorter than its ${STREAM_HEADER_LENGTH}-byte header`)
    }
    if (this.#fill < TAG_LENGTH) {
      throw new AuthenticationError(`sealed stream is truncated: chunk ${this.#index} has ${this.#fill} bytes, less than its tag`)
    }
    return this.#open(true)
  }

  #readHeader (): void {
    const header = this.#buffer.slice(0, STREAM_HEADER_LENGTH)
    for (let i = 0; i < STREAM_MAGIC.length; i++) {
      if (header[i] !== STREAM_MAGIC[i]) throw new DecodeError('not a peerpacs sealed stream (bad magic)')
    }
    const chunkSize = readUintBE(header, 4, 4)
    if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new DecodeError(`sealed stream header names chunk size ${chunkSize}, outside [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`)
    }
    this.#header = header
    this.#subkey = streamSubkey(this.#dataKey, header.subarray(8, 24))
    this.#buffer = new Uint8Array(chunkSize + TAG_LENGTH)
    this.#fill = 0
  }

  #open (last: boolean): Uint8Array {
    const index = this.#index
    try {
      const plain = this.#provider.chachaOpen(this.#subkey!, chunkNonce(index, last), this.#buffer.subarray(0, this.#fill), this.#header!)
      this.#index++
      this.#fill = 0
      return plain
    } catch (cause) {
      throw new AuthenticationError(
        `chunk ${index} did not authenticate: the object is damaged, truncated, reordered, spliced from another object, or the key is wrong`,
        { cause })
    }
  }
}

/** Seals a whole plaintext held in memory (small objects and tests). */
export function sealBytes (options: StreamSealerOptions, plaintext: Uint8Array): Uint8Array {
  expectBytes(plaintext, 'sealBytes(plaintext)')
  const sealer = new StreamSealer(options)
  return concatBytes(sealer.header, ...sealer.push(plaintext), sealer.finish())
}

export function openBytes (options: StreamOpenerOptions, sealed: Uint8Array): Uint8Array {
  expectBytes(sealed, 'openBytes(sealed)')
  const opener = new StreamOpener(options)
  return concatBytes(...opener.push(sealed), opener.finish())
}

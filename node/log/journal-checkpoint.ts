/**
 * The journal checkpoint: a node-local, MACed record of how much of its own journal this node
 * has already verified, so that opening the log does not check those ops' Ed25519 signatures
 * again (issue 18; docs/protocol.md "Journal checkpoint").
 *
 *   id_i    = SHA-256(bytes of journal entry i), entries in key order (= arrival order)
 *   chain_0 = 32 zero bytes;  chain_i = SHA-256(chain_{i-1} ‖ id_i)
 *   K       = HKDF-SHA-256(ikm = the node's Ed25519 seed, salt = "", info = DOMAIN), 32 bytes
 *   mac     = HMAC-SHA-256(K, canonical {domain, org, node, count, chain})
 *   record  = canonical {v: 1, count, chain, mac}   under keys.journalCheckpoint
 *
 * A record that opens (right MAC, for this org and node) says: "the first `count` entries of this
 * journal, with exactly these bytes, were verified by this node". At open, the chain is
 * recomputed from the bytes read; only when it equals the record's after `count` entries are
 * those entries decoded without the signature check (every other check of decodeOp still runs).
 * Anything else (no record, a MAC that fails, fewer entries, a chain that differs because an
 * entry was edited, swapped, inserted or removed) means every op is verified in full, as before.
 *
 * Forging a record needs K, hence the node's secret key: whoever has that can already sign ops
 * as this node. `peerpacs log verify` and fsck ignore the checkpoint and verify everything.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { concatBytes, equalBytes } from '../../protocol/bytes.ts'
import { asMap, bytesField, decodeCanonical, encodeCanonical, intField } from '../../protocol/canonical.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { NodeKeyPair } from '../../protocol/identity.ts'
import { keys } from '../store/key-space.ts'
import type { KvOperation, KvStore } from '../store/kv.ts'

export const CHECKPOINT_DOMAIN = 'peerpacs/journal-checkpoint/v1'
const VERSION = 1

/** The running chain over journal entries' op ids (see the header). */
export class JournalChain {
  readonly #provider: CryptoProvider
  #count = 0
  #hash: Uint8Array = new Uint8Array(32)

  constructor (provider: CryptoProvider) { this.#provider = provider }

  get count (): number { return this.#count }
  get hash (): Uint8Array { return this.#hash }

  /** Extends the chain with the next entry's op id. */
  extend (id: Uint8Array): void {
    this.#hash = this.#provider.sha256(concatBytes(this.#hash, id))
    this.#count++
  }
}

/** What a stored checkpoint says about the journal just read. */
export type CheckpointMatch =
  /** The first `trusted` entries are covered (0 when there is no record). */
  | { readonly status: 'trusted' | 'none', readonly trusted: number }
  /** A record exists but does not cover this journal: everything is verified. */
  | { readonly status: 'mismatch', readonly trusted: 0, readonly why: string }

export class JournalCheckpoint {
  readonly #macKey: Uint8Array
  readonly #org: string
  readonly #node: Uint8Array

  constructor (key: NodeKeyPair, org: string) {
    this.#macKey = new Uint8Array(hkdfSync('sha256', key.secretKey, new Uint8Array(0), CHECKPOINT_DOMAIN, 32))
    this.#org = org
    this.#node = key.publicKey
  }

  #mac (count: number, chain: Uint8Array): Uint8Array {
    const message = encodeCanonical({ domain: CHECKPOINT_DOMAIN, org: this.#org, node: this.#node, count, chain })
    return new Uint8Array(createHmac('sha256', this.#macKey).update(message).digest())
  }

  /** The write recording that the first `chain.count` entries, chained to `chain.hash`, are verified. */
  write (count: number, chain: Uint8Array): KvOperation {
    return { type: 'put', key: keys.journalCheckpoint, value: encodeCanonical({ v: VERSION, count, chain, mac: this.#mac(count, chain) }) }
  }

  /**
   * Reads the record and checks it against the journal's entries, given as their op ids in
   * journal order. Returns the verdict and the chain over all the entries (for the writer that
   * extends it). Never throws for a bad record: a bad record only means "verify everything".
   */
  async match (kv: KvStore, provider: CryptoProvider, ids: readonly Uint8Array[]): Promise<{ match: CheckpointMatch, chain: JournalChain }> {
    const record = await this.#read(kv)
    const chain = new JournalChain(provider)
    let atCount: Uint8Array | undefined
    for (const id of ids) {
      if (chain.count === record.count) atCount = chain.hash
      chain.extend(id)
    }
    if (chain.count === record.count) atCount = chain.hash
    if ('why' in record) return { match: { status: 'mismatch', trusted: 0, why: record.why }, chain }
    if (record.count < 0) return { match: { status: 'none', trusted: 0 }, chain }
    if (atCount === undefined) return { match: { status: 'mismatch', trusted: 0, why: `it covers ${record.count} journal entries, but the journal holds ${ids.length}` }, chain }
    if (!equalBytes(atCount, record.chain)) return { match: { status: 'mismatch', trusted: 0, why: `the chain over the first ${record.count} journal entries differs: an entry was changed, swapped, added or removed` }, chain }
    return { match: { status: 'trusted', trusted: record.count }, chain }
  }

  /** The stored record (count -1: none), or why it is not usable. */
  async #read (kv: KvStore): Promise<{ count: number, chain: Uint8Array } | { count: -1, why: string }> {
    const stored = await kv.get(keys.journalCheckpoint)
    if (stored === undefined) return { count: -1, chain: new Uint8Array(0) }
    try {
      const map = asMap(decodeCanonical(stored, 1024), 'checkpoint')
      if (intField(map, 'v', 'checkpoint') !== VERSION) return { count: -1, why: `the record is of version ${String(map.v)}, expected ${VERSION}` }
      const count = intField(map, 'count', 'checkpoint')
      const chain = bytesField(map, 'chain', 'checkpoint', 32)
      const mac = bytesField(map, 'mac', 'checkpoint', 32)
      if (!timingSafeEqual(mac, this.#mac(count, chain))) return { count: -1, why: 'its MAC does not verify (it was not written with this node\'s key for this org)' }
      return { count, chain }
    } catch (error) {
      return { count: -1, why: `the record does not decode: ${(error as Error).message}` }
    }
  }
}

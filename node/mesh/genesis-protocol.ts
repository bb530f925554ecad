/**
 * `/peerpacs/genesis/1.0.0`: answers the org's genesis op (one length-prefixed frame) to a peer
 * that passed the gater. A restoring node needs it first: the recovery key file names no org,
 * and the genesis says which recovery key the org has, so a wrong key is refused before
 * anything is written (docs/protocol.md "Restore").
 */
import type { Stream, StreamHandler } from '@libp2p/interface'
import { MAX_OP_BYTES } from '../../protocol/log/index.ts'
import { framed } from './frames.ts'

export const GENESIS_PROTOCOL = '/peerpacs/genesis/1.0.0'
const TIMEOUT_MS = 15_000

export function handleGenesis (genesisBytes: Uint8Array): StreamHandler {
  return async (stream: Stream) => {
    try {
      await framed(stream, { maxFrameBytes: MAX_OP_BYTES, readTimeoutMs: TIMEOUT_MS }).write(genesisBytes)
      await stream.close()
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}

export async function readGenesis (stream: Stream): Promise<Uint8Array> {
  const bytes = await framed(stream, { maxFrameBytes: MAX_OP_BYTES, readTimeoutMs: TIMEOUT_MS }).read()
  await stream.close().catch(() => undefined)
  return bytes
}

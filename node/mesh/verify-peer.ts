/**
 * Challenges a peer (the backup) for blocks and checks each answer against the signed log
 * (DESIGN invariant 5: integrity is checkable without keys). Uses /peerpacs/blocks/1.0.0 as any
 * fetch does, one block per request so a missing or damaged blob costs one answer; a block is
 * never kept. Each sample ends as ok, missing (the peer does not hold the blob), damaged (the
 * bytes do not match the block hash, or the peer found its own copy damaged) or refused.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { BLOCK_SIZE, blockCount } from '../../protocol/blob-id.ts'
import { equalBytes } from '../../protocol/bytes.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import type { BlobInfo } from '../../protocol/log/index.ts'
import { frameStream } from './blocks/frame-stream.ts'
import { ANSWER_TIMEOUT_MS, decodeAnswer, encodeRequest, MAX_ANSWER_FRAME } from '../../protocol/wire/blocks.ts'

export interface Sample { readonly blob: BlobInfo, readonly index: number }
export type SampleOutcome = 'ok' | 'missing' | 'damaged' | 'refused'
export interface SampleResult extends Sample { readonly outcome: SampleOutcome, readonly detail?: string }

/** `count` random (blob, block) pairs, or every block of every blob when count is 'all'. */
export function pickSamples (blobs: readonly BlobInfo[], count: number | 'all', random: (n: number) => number): Sample[] {
  const withBlocks = blobs.filter((b) => b.size > 0)
  if (count === 'all') return withBlocks.flatMap((blob) => Array.from({ length: blockCount(blob.size, BLOCK_SIZE) }, (_, index) => ({ blob, index })))
  const out: Sample[] = []
  for (let i = 0; i < count && withBlocks.length > 0; i++) {
    const blob = withBlocks[random(withBlocks.length)]!
    out.push({ blob, index: random(blockCount(blob.size, BLOCK_SIZE)) })
  }
  return out
}

export async function verifyPeerBlocks (provider: CryptoProvider, open: () => Promise<Stream>, samples: readonly Sample[], onProgress?: (done: number) => void): Promise<SampleResult[]> {
  const results: SampleResult[] = []
  let stream = await open()
  let frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: 2 * MAX_ANSWER_FRAME })
  for (const sample of samples) {
    let result: SampleResult
    try {
      await frames.write([encodeRequest(sample.blob.id as never, [sample.index])], ANSWER_TIMEOUT_MS)
      const frame = await frames.read(ANSWER_TIMEOUT_MS)
      if (frame === undefined) throw new Error('the peer ended the stream')
      const answer = decodeAnswer(frame)
      if (answer.type === 'block') {
        const expected = sample.blob.blockHashes.subarray(sample.index * 32, sample.index * 32 + 32)
        const ok = answer.index === sample.index && equalBytes(provider.sha256(answer.bytes), expected)
        result = ok ? { ...sample, outcome: 'ok' } : { ...sample, outcome: 'damaged', detail: 'the block does not match its hash in the log' }
      } else if (answer.type === 'not-held') {
        result = { ...sample, outcome: 'missing', detail: 'the peer does not hold this blob' }
      } else if (answer.type === 'refused') {
        result = { ...sample, outcome: 'refused', detail: 'the peer refused to serve it' }
      } else {
        result = { ...sample, outcome: 'damaged', detail: answer.message }
        // The server ends the stream after an error answer: open another for the next sample.
        stream.abort(new Error('error answer'))
        stream = await open()
        frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: 2 * MAX_ANSWER_FRAME })
      }
    } catch (error) {
      result = { ...sample, outcome: 'damaged', detail: `no valid answer: ${(error as Error).message}` }
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      stream = await open()
      frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_FRAME, maxUnreadBytes: 2 * MAX_ANSWER_FRAME })
    }
    results.push(result)
    onProgress?.(results.length)
  }
  await stream.close().catch(() => stream.abort(new Error('done')))
  return results
}

export type { PeerId }

/**
 * Worker-thread entry of FrameDecoder (frame-decoder.ts): decodes one frame per message with
 * decode-frame.ts and posts back the pixels (transferred, not copied) or the error's code and
 * message. A codec that spins forever on a hostile codestream spins here, where the parent can
 * terminate it, and never on the node's event loop.
 */
import { parentPort } from 'node:worker_threads'
import { PeerpacsError } from '../../protocol/errors.ts'
import { decodeFrame } from './decode-frame.ts'
import type { FrameGeometry } from './geometry.ts'

export interface DecodeRequest { readonly id: number, readonly transferSyntaxUid: string, readonly bytes: Uint8Array, readonly geometry: FrameGeometry }
export type DecodeReply =
  | { readonly id: number, readonly bytes: Uint8Array, readonly photometric: string }
  | { readonly id: number, readonly code: string, readonly message: string }

const port = parentPort
if (port === null) throw new Error('decode-worker.ts runs as a worker thread (new Worker), not as a module of the main thread')
port.on('message', (request: DecodeRequest) => {
  decodeFrame(request.transferSyntaxUid, request.bytes, request.geometry).then((frame) => {
    const reply: DecodeReply = { id: request.id, bytes: frame.bytes, photometric: frame.photometric }
    port.postMessage(reply, [frame.bytes.buffer as ArrayBuffer])
  }, (error: unknown) => {
    const reply: DecodeReply = { id: request.id, code: error instanceof PeerpacsError ? error.code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) }
    port.postMessage(reply)
  })
})

/**
 * Worker-thread entry of VerifyPool (verify-pool.ts): for each op in a message, runs exactly
 * decodeOp(nativeProvider, bytes) (validation step 1, signature included) and answers only
 * whether it passed. The parent decides nothing from a `false`: it decodes that op again itself.
 */
import { parentPort } from 'node:worker_threads'
import { decodeOp } from '../../protocol/log/op.ts'
import { nativeProvider } from '../crypto/native-provider.ts'

export interface VerifyRequest { readonly id: number, readonly ops: readonly Uint8Array[] }
export interface VerifyReply { readonly id: number, readonly passed: readonly boolean[] }

const port = parentPort
if (port === null) throw new Error('verify-worker.ts runs as a worker thread (new Worker), not as a module of the main thread')
port.on('message', (request: VerifyRequest) => {
  const passed = request.ops.map((bytes) => {
    try {
      decodeOp(nativeProvider, bytes)
      return true
    } catch {
      return false
    }
  })
  const reply: VerifyReply = { id: request.id, passed }
  port.postMessage(reply)
})

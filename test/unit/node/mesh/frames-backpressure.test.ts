/**
 * A framed stream between two real libp2p hosts (TCP, Noise, yamux) whose reader is slow, as a
 * joining site is while it verifies each batch of ops: the sender writes 15 MiB of frames at
 * once and the reader takes them one by one, waiting after each. Every frame arrives, in order;
 * with the library's 4 MiB read buffer the unread bytes overflowed ("Read buffer overflow") and
 * the stream was aborted part way, which ended a 100k-instance catch-up at the same op every
 * time. Bursts beyond the 20 MiB bound still fail: log sync needs flow control of its own.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHost } from '../../../../node/mesh/host.ts'
import { framed } from '../../../../node/mesh/frames.ts'
import { random } from '../../../../node/runtime.ts'

const PROTOCOL = '/peerpacs-test/frames/1.0.0'
const FRAME = 768 * 1024
const FRAMES = 20 // 15 MiB: well past the library's 4 MiB, inside the 20 MiB bound

test('a slow reader gets every frame of a 15 MiB burst, in order, none refused', async (t) => {
  const receiver = await createHost({ seed: random(32), listen: ['/ip4/127.0.0.1/tcp/0'], gate: () => true })
  const sender = await createHost({ seed: random(32), listen: [], gate: () => true })
  t.after(async () => { await sender.stop(); await receiver.stop() })
  const received: number[] = []
  const done = new Promise<void>((resolve, reject) => {
    void receiver.handle(PROTOCOL, async (stream) => {
      const f = framed(stream, { maxFrameBytes: FRAME + 16, readTimeoutMs: 60_000 })
      try {
        for (let i = 0; i < FRAMES; i++) {
          const frame = await f.read()
          assert.equal(frame.length, FRAME)
          received.push(frame[0]!)
          // The work a site does with a frame of ops before it reads the next one.
          await new Promise((r) => setTimeout(r, 40))
        }
        await stream.close()
        resolve()
      } catch (error) { reject(error as Error) }
    })
  })
  const stream = await sender.dialProtocol(receiver.getMultiaddrs()[0]!, PROTOCOL)
  const f = framed(stream, { maxFrameBytes: FRAME + 16, readTimeoutMs: 60_000 })
  for (let i = 0; i < FRAMES; i++) await f.write(new Uint8Array(FRAME).fill(i % 256))
  await done
  assert.deepEqual(received, Array.from({ length: FRAMES }, (_, i) => i % 256))
})

/**
 * Carries a C-STORE's dataset bytes from the network to the ingest as they arrive, without
 * holding the dataset: the producer (PDV values) pushes, the ingest pulls through an async
 * iterator. When more than `high` bytes wait, `pause` is called (the association's socket stops
 * reading: TCP backpressure reaches the sender) and `resume` once below `low`. If the consumer
 * stops early (a rejected dataset), later bytes are dropped; `fail` ends the stream with an error
 * (the association went away mid-dataset), so the ingest aborts and stores nothing.
 */
export interface FlowControl {
  readonly pause: () => void
  readonly resume: () => void
}

export class ChunkQueue implements AsyncIterable<Uint8Array> {
  readonly #flow: FlowControl
  readonly #high: number
  readonly #low: number
  #chunks: Uint8Array[] = []
  #bytes = 0
  #ended = false
  #failure: Error | undefined
  #gone = false
  #paused = false
  #wake: (() => void) | undefined
  /** Every byte pushed, kept or dropped. */
  received = 0

  constructor (flow: FlowControl, high = 8 << 20, low = 2 << 20) {
    this.#flow = flow
    this.#high = high
    this.#low = low
  }

  push (chunk: Uint8Array): void {
    this.received += chunk.length
    if (this.#gone || this.#ended) return
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
    if (this.#bytes > this.#high && !this.#paused) {
      this.#paused = true
      this.#flow.pause()
    }
    this.#signal()
  }

  end (): void {
    this.#ended = true
    this.#signal()
  }

  fail (error: Error): void {
    if (this.#ended) return
    this.#failure = error
    this.#ended = true
    this.#signal()
  }

  /** The consumer is done (or never started): drop what waits and anything later. */
  discard (): void {
    this.#gone = true
    this.#chunks = []
    this.#bytes = 0
    this.#release()
  }

  #signal (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #release (): void {
    if (this.#paused && this.#bytes <= this.#low) {
      this.#paused = false
      this.#flow.resume()
    }
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    try {
      while (true) {
        const chunk = this.#chunks.shift()
        if (chunk !== undefined) {
          this.#bytes -= chunk.length
          this.#release()
          yield chunk
          continue
        }
        if (this.#failure !== undefined) throw this.#failure
        if (this.#ended) return
        await new Promise<void>((resolve) => { this.#wake = resolve })
      }
    } finally {
      this.discard()
    }
  }
}

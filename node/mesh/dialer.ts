/**
 * Keeps this node connected to the members it knows an address for (libp2p 3 has no auto
 * dialler). Each target is redialled after a failure with exponential backoff and jitter
 * (1 s doubling to MAX_BACKOFF_MS), and at once when new addresses for it appear; a
 * connection resets its backoff. Targets come from `--peer`, the invite a node joined with,
 * mDNS, and the `member.addresses` ops in the log.
 */
import type { PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logging/logger.ts'
import type { Host } from './host.ts'

export const FIRST_BACKOFF_MS = 1000
export const MAX_BACKOFF_MS = 30_000
const DIAL_TIMEOUT_MS = 10_000
/** How long past its abort signal a dial may take to settle before it is given up on here. */
const DIAL_GRACE_MS = 5_000

/** `promise`, or a rejection once `ms` have passed (calling `onLate` first) if it has not settled by then. */
async function settledWithin<T> (promise: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { onLate(); reject(new Error(`the dial did not settle within ${ms} ms`)) }, ms)
    timer.unref()
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
const TICK_MS = 500

interface Target {
  addrs: Multiaddr[]
  failures: number
  nextAt: number
  dialing: boolean
}

export class Dialer {
  readonly #host: Host
  readonly #log: Logger
  readonly #wanted: (peer: string) => boolean
  /** Keyed by peer id string; addresses without a peer id are kept under the address. */
  readonly #targets = new Map<string, Target>()
  #timer: NodeJS.Timeout | undefined

  constructor (host: Host, log: Logger, wanted: (peer: string) => boolean) {
    this.#host = host
    this.#log = log
    this.#wanted = wanted
  }

  start (): void {
    this.#timer = setInterval(() => { this.#tick() }, TICK_MS)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Adds addresses (multiaddr strings, with or without /p2p/<id>) for a peer or, when `peer` is undefined, as bootstrap addresses. */
  add (peer: string | undefined, addresses: readonly string[]): void {
    for (const text of addresses) {
      let addr: Multiaddr
      try { addr = multiaddr(text) } catch { this.#log.warn('mesh.address.invalid', { address: text.slice(0, 200) }); continue }
      const id = peer ?? addr.getComponents().find((c) => c.name === 'p2p')?.value ?? `addr:${addr.toString()}`
      const withPeer = peer !== undefined && addr.getComponents().every((c) => c.name !== 'p2p') ? addr.encapsulate(`/p2p/${peer}`) : addr
      let target = this.#targets.get(id)
      if (target === undefined) {
        target = { addrs: [], failures: 0, nextAt: 0, dialing: false }
        this.#targets.set(id, target)
      }
      if (!target.addrs.some((a) => a.equals(withPeer))) {
        target.addrs.push(withPeer)
        target.nextAt = 0 // new address: try it now
      }
    }
  }

  connected (peer: PeerId): void {
    const target = this.#targets.get(peer.toString())
    if (target !== undefined) { target.failures = 0; target.nextAt = 0 }
  }

  /** Known targets and their state, for status. */
  targets (): Array<{ peer: string, addrs: string[], failures: number, nextAt: number }> {
    return [...this.#targets.entries()].map(([peer, t]) => ({ peer, addrs: t.addrs.map(String), failures: t.failures, nextAt: t.nextAt }))
  }

  #tick (): void {
    const now = Date.now()
    const connected = new Set(this.#host.getConnections().map((c) => c.remotePeer.toString()))
    for (const [id, target] of this.#targets) {
      if (target.dialing || target.nextAt > now || connected.has(id)) continue
      if (!id.startsWith('addr:') && !this.#wanted(id)) continue
      target.dialing = true
      void this.#dial(id, target).finally(() => { target.dialing = false })
    }
  }

  async #dial (id: string, target: Target): Promise<void> {
    for (const addr of target.addrs) {
      try {
        const connection = await settledWithin(this.#host.dial(addr, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }), DIAL_TIMEOUT_MS + DIAL_GRACE_MS, () => {
          // A dial that outlives its abort signal would leave this target `dialing` for good: never redialled.
          this.#log.warn('mesh.dial.hung', { peer: id, address: addr.toString(), ms: DIAL_TIMEOUT_MS + DIAL_GRACE_MS })
        })
        target.failures = 0
        // A bootstrap address without a peer id: once we know who answers, the address belongs to it.
        if (id.startsWith('addr:')) {
          this.#targets.delete(id)
          this.add(connection.remotePeer.toString(), [addr.toString()])
        }
        this.#log.debug('mesh.dialled', { peer: connection.remotePeer.toString(), address: addr.toString() })
        return
      } catch (error) {
        this.#log.debug('mesh.dial.failed', { peer: id, address: addr.toString(), error: (error as Error).message })
      }
    }
    target.failures++
    const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (target.failures - 1))
    target.nextAt = Date.now() + backoff * (0.5 + Math.random() / 2)
  }
}

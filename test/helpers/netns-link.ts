/**
 * A real rate-limited link for tests: two fresh Linux network namespaces joined by a veth pair,
 * with a token-bucket filter (`tc qdisc … tbf`) on both ends, so processes run in them (with
 * `ip netns exec`) talk through a kernel bottleneck instead of unlimited loopback.
 *
 *   nsA (addrA 10.200.0.1) ──veth── tbf rate R ──▶ nsB (addrB 10.200.0.2), and the same back
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), `ip` and `tc`, and the sch_tbf qdisc; tests ask
 * netnsAvailable() first and skip with its reason. netem is not assumed, so the link adds no
 * propagation delay: `latencyMs` is tbf's own parameter, the longest a packet may wait in the
 * bucket's queue (it sizes the queue; later packets are dropped), not an added delay. Put the
 * fault proxy (fault-proxy.ts) in a namespace for delay.
 *
 * Each pair lives alone in its own namespaces, so the fixed addresses never clash. Names carry
 * the pid (pp-<pid>-<n>-a/b); close() deletes them, a process 'exit' hook deletes them if a test
 * forgot, and each new link first deletes pairs left behind by processes that no longer exist.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'

export interface LimitedLinkOptions {
  /** Rate of each direction, in Mbit/s (10^6 bits). */
  rateMbit: number
  /** Token bucket size in KiB (default: 10 ms at the rate, at least 16 KiB). */
  burstKb?: number
  /** tbf's queue bound in ms (default 50); NOT an added delay, see the header. */
  latencyMs?: number
}

export interface LimitedLink {
  readonly nsA: string
  readonly nsB: string
  readonly addrA: string
  readonly addrB: string
  /** Starts `cmd args` inside namespace `ns` (nsA or nsB); close() kills it if still running. */
  exec: (ns: string, cmd: string, args?: readonly string[], options?: SpawnOptions) => ChildProcess
  /** Takes both ends of the veth link down (packets are dropped, connections stall) or up again. */
  setDown: (down: boolean) => Promise<void>
  /** Kills what exec started, then deletes both namespaces (and with them the veth pair). */
  close: () => Promise<void>
}

const run = promisify(execFile)
const ADDR_A = '10.200.0.1'
const ADDR_B = '10.200.0.2'
const NAME = /^pp-(\d+)-\d+-[ab]$/
let counter = 0

async function sh (cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { encoding: 'utf8' })).stdout
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string, code?: unknown }
    const why = e.code === 'ENOENT' ? `${cmd} is not installed` : (e.stderr ?? '').trim() || e.message
    throw new Error(`netns link: \`${cmd} ${args.join(' ')}\` failed: ${why}`)
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Deletes namespaces named by this helper whose process is gone (a crashed or killed test run). */
async function sweepStale (): Promise<void> {
  const list = await sh('ip', ['netns', 'list'])
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const m = NAME.exec(name)
    if (m !== null && !alive(Number(m[1]))) await sh('ip', ['netns', 'del', name]).catch(() => {})
  }
}

function deleteNow (names: string[]): void {
  for (const name of names) {
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) } catch {}
  }
}

export async function createLimitedLink (options: LimitedLinkOptions): Promise<LimitedLink> {
  const { rateMbit } = options
  if (!(Number.isFinite(rateMbit) && rateMbit > 0)) throw new RangeError(`netns link: rateMbit > 0 expected, got ${rateMbit}`)
  const burstKb = options.burstKb ?? Math.max(16, Math.ceil(rateMbit * 1e6 / 8 / 100 / 1024))
  if (!(Number.isFinite(burstKb) && burstKb >= 2)) throw new RangeError(`netns link: burstKb >= 2 (above one packet) expected, got ${burstKb}`)
  const latencyMs = options.latencyMs ?? 50
  if (!(Number.isFinite(latencyMs) && latencyMs > 0)) throw new RangeError(`netns link: latencyMs > 0 expected, got ${latencyMs}`)

  await sweepStale()
  const n = counter++ % 10000
  const nsA = `pp-${process.pid}-${n}-a`
  const nsB = `pp-${process.pid}-${n}-b`
  // Interface names have at most 15 characters; they only live inside the namespaces.
  const vethA = `veth${n}a`
  const vethB = `veth${n}b`
  const created: string[] = []
  const onExit = (): void => deleteNow(created)
  process.on('exit', onExit)
  try {
    for (const ns of [nsA, nsB]) {
      await sh('ip', ['netns', 'add', ns])
      created.push(ns)
    }
    await sh('ip', ['link', 'add', vethA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB])
    for (const [ns, dev, addr] of [[nsA, vethA, ADDR_A], [nsB, vethB, ADDR_B]] as const) {
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      await sh('ip', ['-n', ns, 'addr', 'add', `${addr}/30`, 'dev', dev])
      await sh('ip', ['-n', ns, 'link', 'set', dev, 'up'])
      await sh('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', `${burstKb}kb`, 'latency', `${latencyMs}ms`])
    }
  } catch (error) {
    deleteNow(created)
    process.off('exit', onExit)
    throw error
  }

  const children = new Set<ChildProcess>()
  let closed = false
  return {
    nsA,
    nsB,
    addrA: ADDR_A,
    addrB: ADDR_B,
    exec: (ns, cmd, args = [], spawnOptions = {}) => {
      if (ns !== nsA && ns !== nsB) throw new Error(`netns link: namespace ${nsA} or ${nsB} expected, got ${JSON.stringify(ns)}`)
      if (closed) throw new Error(`netns link: ${ns} is closed`)
      // `ip netns exec` execs the command in place, so the child's pid is the command's.
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], spawnOptions)
      children.add(child)
      child.once('exit', () => children.delete(child))
      child.once('error', () => children.delete(child))
      return child
    },
    setDown: async (down) => {
      for (const [ns, dev] of [[nsA, vethA], [nsB, vethB]] as const) await sh('ip', ['-n', ns, 'link', 'set', dev, down ? 'down' : 'up'])
    },
    close: async () => {
      if (closed) return
      closed = true
      await Promise.all([...children].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = once(child, 'exit')
        child.kill('SIGKILL')
        await exited
      }))
      deleteNow(created)
      process.off('exit', onExit)
    }
  }
}

let available: Promise<{ ok: true } | { ok: false, reason: string }> | undefined

/** Whether createLimitedLink works here, found by building (and removing) one real link. */
export function netnsAvailable (): Promise<{ ok: true } | { ok: false, reason: string }> {
  available ??= (async () => {
    if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` }
    if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN)' }
    try {
      const link = await createLimitedLink({ rateMbit: 10 })
      await link.close()
      return { ok: true } as const
    } catch (error) {
      return { ok: false, reason: (error as Error).message }
    }
  })()
  return available
}

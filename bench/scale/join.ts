/**
 * A new site joining, and a new site restored from the backup, against a running node A that
 * holds the archive (all on loopback). The figures are the issue's: from the new node's
 * spawn, when its log has caught up and every study is listed (before pixel data), and when
 * every study is local (pixel data done). Both sides' RSS is read from /proc.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { rssOf, startNode, statusOf, timed, type RunningNode } from './processes.ts'

const BIN = new URL('../../bin/peerpacs.js', import.meta.url).pathname

function records (stdout: string): Array<Record<string, any>> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
}

async function inviteCode (aData: string, role: 'site' | 'backup'): Promise<string> {
  const r = await timed(['invite', '--role', role, '--json', '--data', aData])
  const code = records(r.stdout).find((x) => typeof x.code === 'string')?.code
  if (typeof code !== 'string') throw new Error(`peerpacs invite printed no code:\n${r.stdout}`)
  return code
}

export interface Holding { listed: number, local: number, inLog: number, opsBehind: number | undefined }

function holding (s: Record<string, any>): Holding {
  const st = s.mesh?.studies ?? {}
  const peers = (s.mesh?.peers ?? []) as Array<Record<string, any>>
  const behind = peers.map((p) => p.opsBehind).filter((x): x is number => typeof x === 'number')
  return {
    listed: (st.local ?? 0) + (st.partial ?? 0) + (st.remoteOnly ?? 0),
    local: st.local ?? 0,
    inLog: Array.isArray(st.list) ? st.list.length : 0,
    opsBehind: behind.length === 0 ? undefined : Math.max(...behind)
  }
}

export interface JoinFigures {
  readySeconds: number
  /** From B's spawn: the first poll where no peer reported B behind (log caught up). */
  caughtUpSeconds: number | null
  /** From B's spawn: every study listed (local, partial or remote-only). */
  listedSeconds: number | null
  /** From B's spawn: every study local (pixel data verified and indexed). */
  localSeconds: number | null
  /** How many studies were local when every study was first listed. */
  localWhenListed: number | null
  peakRssBytes: number
  aPeakRssBytes: number
  timedOut: boolean
  /** On a time-out: B's last warnings and errors and its view of the log, to say where it stuck. */
  stuck?: { ops: unknown, listed: number, local: number, warnings: string[] }
}

/** B joins A (invite + init --join + start) and is watched until it holds every study. */
export async function joinSite (work: string, a: RunningNode, aData: string, studies: number, timeoutSeconds: number, role: 'site' | 'backup' = 'site'): Promise<{ figures: JoinFigures, node: RunningNode, data: string }> {
  const data = join(work, role === 'site' ? 'b' : 'backup')
  await timed(['init', '--join', await inviteCode(aData, role), '--data', data])
  const begin = performance.now()
  const node = await startNode(data)
  const f: JoinFigures = { readySeconds: node.readySeconds, caughtUpSeconds: null, listedSeconds: null, localSeconds: null, localWhenListed: null, peakRssBytes: 0, aPeakRssBytes: 0, timedOut: false }
  for (;;) {
    const t = (performance.now() - begin) / 1000
    const h = holding(await statusOf(node).catch(() => ({})))
    if (f.caughtUpSeconds === null && h.opsBehind === 0 && h.inLog >= studies) f.caughtUpSeconds = t
    if (f.listedSeconds === null && h.listed >= studies) { f.listedSeconds = t; f.localWhenListed = h.local }
    if (h.local >= studies) { f.localSeconds = t; break }
    if (t > timeoutSeconds) {
      f.timedOut = true
      const s = await statusOf(node).catch(() => ({} as Record<string, any>))
      f.stuck = { ops: s.mesh?.log?.ops, listed: h.listed, local: h.local, warnings: node.logLines().filter((l) => /"level":"(warn|error)"/.test(l)).slice(-8) }
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  f.peakRssBytes = rssOf(node.pid).peak
  f.aPeakRssBytes = rssOf(a.pid).peak
  return { figures: f, node, data }
}

export interface RestoreFigures {
  /** From the restore's spawn: its "Log: N ops fetched and verified" line (log caught up, studies listable). */
  logSeconds: number | null
  /** From the restore's spawn to its exit (every blob fetched, verified, indexed); null when stopped at the time-out. */
  doneSeconds: number | null
  /** The restore (or the backup's fill before it) was stopped at --timeout: the log figure stands, the blob figures do not. */
  timedOut: boolean
  studies: number | null
  instances: number | null
  peakRssBytes: number
  backupPeakRssBytes: number
  backupFillSeconds: number | null
}

/** A backup joins A and fills; A stops (and is named lost); `peerpacs restore` builds a new site from the backup. */
export async function restoreFromBackup (work: string, a: RunningNode, aData: string, recoveryKey: string, studies: number, timeoutSeconds: number): Promise<RestoreFigures> {
  const { figures: fill, node: backup } = await joinSite(work, a, aData, studies, timeoutSeconds, 'backup')
  try {
    await a.stop()
    const from = String(backup.ready.p2p).split(' ')[0]!
    const begin = performance.now()
    const child = spawn(process.execPath, [BIN, 'restore', '--from', from, '--recovery-key', recoveryKey, '--replace', String(a.ready.nodeId), '--data', join(work, 'restored')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEERPACS_PASSPHRASE: undefined } })
    let stdout = ''
    let stderr = ''
    let logSeconds: number | null = null
    let peak = 0
    const poll = setInterval(() => { peak = Math.max(peak, rssOf(child.pid!).peak) }, 100)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (logSeconds === null && /ops fetched and verified/.test(stdout)) logSeconds = (performance.now() - begin) / 1000
    })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    let timedOut = fill.timedOut
    const killer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutSeconds * 1000)
    const [code] = await once(child, 'exit') as [number | null]
    clearTimeout(killer)
    clearInterval(poll)
    const doneSeconds = timedOut ? null : (performance.now() - begin) / 1000
    if (code !== 0 && !timedOut) throw new Error(`peerpacs restore exited ${code}:\n${stdout.slice(-1500)}\n${stderr.slice(-1500)}`)
    // Without --json the restore says when its log is in ("Log: N ops fetched") and what it restored.
    const restored = /Restored (\d+) studies \((\d+) instances\)/.exec(stdout)
    return {
      logSeconds, doneSeconds, studies: restored === null ? null : Number(restored[1]), instances: restored === null ? null : Number(restored[2]),
      peakRssBytes: peak, backupPeakRssBytes: rssOf(backup.pid).peak,
      backupFillSeconds: fill.localSeconds, timedOut
    }
  } finally {
    await backup.stop()
  }
}

/** dcmtk's tools as the independent judge: a missing tool fails the test with what to install. */
import { spawnSync } from 'node:child_process'

export interface ToolRun { status: number, stdout: string, stderr: string }

export function dcmtk (tool: string, args: string[]): ToolRun {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${tool} is not on PATH: install the Debian package dcmtk (apt-get install -y dcmtk)`)
  }
  if (r.error !== undefined) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** JPEG-compresses a file with dcmcjpeg, giving it a new SOPInstanceUID. */
export function jpegCompress (input: string, output: string, mode: 'lossless' | 'baseline'): void {
  const r = dcmtk('dcmcjpeg', [mode === 'lossless' ? '+e1' : '+eb', '+ua', input, output])
  if (r.status !== 0) throw new Error(`dcmcjpeg failed (${r.status}): ${r.stderr}`)
}

/** The value of one tag as dcmdump prints it, e.g. "(0008,0018)". */
export function dumpValue (file: string, tag: string): string | undefined {
  const r = dcmtk('dcmdump', ['-Un', '+P', tag, '-q', file])
  const m = /\[([^\]]*)\]/.exec(r.stdout)
  return m?.[1]?.replace(/\0+$/, '')
}

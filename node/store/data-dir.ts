/**
 * The layout of a node's data dir, its identity file, and who holds it:
 *
 *   peerpacs.json   format, node id, org id (no secrets, no PHI)
 *   keys/           key material (keys/keyring.ts)
 *   index/          level: the index (archive/index-layout.ts)
 *   blobs/          sealed objects (store/blob-store-fs.ts)
 *   partial/        objects being received from peers, resumable (store/partial-blobs.ts)
 *   quarantine/     damaged objects set aside by `fsck --repair`
 *   holder.json     which process holds the data dir now (informational; LevelDB's lock decides)
 *   log-mark.json   the highest own seq ever made durable, apart from the journal (log/seq-mark.ts)
 *   control.sock    a running node's control channel (daemon/control-socket.ts)
 *   control.json    a running node's pid and addresses (informational)
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PeerpacsError } from '../../protocol/errors.ts'
import { writeFileAtomic } from './atomic-file.ts'

export type DataDirErrorCode = 'NOT_INITIALISED' | 'ALREADY_INITIALISED' | 'DATA_DIR_NOT_EMPTY' | 'DATA_DIR_BUSY' | 'DATA_DIR_FORMAT'

export class DataDirError extends PeerpacsError {
  constructor (code: DataDirErrorCode, message: string, hint?: string) {
    super(code, message, hint === undefined ? {} : { hint })
  }
}

export interface DataDirLayout {
  readonly root: string
  readonly metaFile: string
  readonly keysDir: string
  readonly indexDir: string
  readonly blobsDir: string
  /** Objects being received from peers (same file system as blobsDir: they are renamed into it). */
  readonly partialDir: string
  readonly quarantineDir: string
  readonly holderFile: string
  /** Written by a running node (`peerpacs start`): its pid and HTTP address (informational). */
  readonly controlFile: string
  /** The running node's control channel (daemon/control-socket.ts): how the CLI reaches it. */
  readonly controlSocket: string
}

export function dataDirLayout (root: string): DataDirLayout {
  const abs = resolve(root)
  return {
    root: abs,
    metaFile: join(abs, 'peerpacs.json'),
    keysDir: join(abs, 'keys'),
    indexDir: join(abs, 'index'),
    blobsDir: join(abs, 'blobs'),
    partialDir: join(abs, 'partial'),
    quarantineDir: join(abs, 'quarantine'),
    holderFile: join(abs, 'holder.json'),
    controlFile: join(abs, 'control.json'),
    controlSocket: join(abs, 'control.sock')
  }
}

export const DATA_DIR_FORMAT = 'peerpacs-data-dir'
export const DATA_DIR_VERSION = 1

export interface DataDirMeta {
  readonly format: typeof DATA_DIR_FORMAT
  readonly version: number
  readonly nodeId: string
  readonly orgId: string
  readonly orgName: string
  readonly created: string
}

export async function readDataDirMeta (layout: DataDirLayout): Promise<DataDirMeta> {
  let text: string
  try {
    text = await readFile(layout.metaFile, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') {
      throw new DataDirError('NOT_INITIALISED', `${layout.root} is a file, not a peerpacs data dir`, 'point --data (or PEERPACS_DATA) at a data dir folder')
    }
    if (code === 'ENOENT') {
      throw new DataDirError('NOT_INITIALISED', `no peerpacs data dir at ${layout.root}`,
        `create one with \`peerpacs init --data ${layout.root}\`, or point --data (or PEERPACS_DATA) at an existing one`)
    }
    throw new DataDirError('DATA_DIR_FORMAT', `cannot read ${layout.metaFile}: ${code ?? (error as Error).message}`)
  }
  let meta: DataDirMeta
  try {
    meta = JSON.parse(text) as DataDirMeta
  } catch {
    throw new DataDirError('DATA_DIR_FORMAT', `${layout.metaFile} is not valid JSON`)
  }
  if (meta === null || typeof meta !== 'object' || meta.format !== DATA_DIR_FORMAT || typeof meta.nodeId !== 'string' || typeof meta.orgId !== 'string') {
    throw new DataDirError('DATA_DIR_FORMAT', `${layout.metaFile} is not a peerpacs data dir description`)
  }
  if (meta.version !== DATA_DIR_VERSION) {
    throw new DataDirError('DATA_DIR_FORMAT', `data dir format version ${meta.version} is not supported by this peerpacs (it reads version ${DATA_DIR_VERSION})`)
  }
  return meta
}

/** Creates the data dir's folders for `init`, refusing a dir that is initialised or holds anything else. */
export async function prepareNewDataDir (layout: DataDirLayout): Promise<void> {
  let entries: string[] = []
  try {
    entries = await readdir(layout.root)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') throw new DataDirError('DATA_DIR_NOT_EMPTY', `${layout.root} is a file`, 'choose an empty or new folder for --data')
    if (code !== 'ENOENT') throw new DataDirError('DATA_DIR_FORMAT', `cannot read ${layout.root}: ${code ?? (error as Error).message}`)
  }
  if (entries.includes('peerpacs.json')) {
    throw new DataDirError('ALREADY_INITIALISED', `${layout.root} is already a peerpacs data dir`, 'use it as it is, or choose another --data')
  }
  if (entries.length > 0 && entries.every((e) => ['keys', 'index', 'blobs'].includes(e))) {
    throw new DataDirError('DATA_DIR_NOT_EMPTY', `${layout.root} holds the start of a data dir but no peerpacs.json: an init was interrupted`,
      `nothing in it was ever used; remove the folder (rm -r ${layout.root}) and run init again`)
  }
  if (entries.length > 0) {
    throw new DataDirError('DATA_DIR_NOT_EMPTY', `${layout.root} is not empty and is not a peerpacs data dir`, 'choose an empty or new folder for --data')
  }
  await mkdir(layout.root, { recursive: true, mode: 0o700 })
  await mkdir(layout.keysDir, { mode: 0o700 })
  await mkdir(layout.blobsDir, { mode: 0o700 })
}

export async function writeDataDirMeta (layout: DataDirLayout, meta: DataDirMeta): Promise<void> {
  await writeFileAtomic(layout.metaFile, JSON.stringify(meta, null, 2) + '\n', 0o644)
}

export interface Holder { pid: number, command: string, since: string }

export async function readHolder (layout: DataDirLayout): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(layout.holderFile, 'utf8')) as Holder
  } catch {
    return undefined
  }
}

export async function writeHolder (layout: DataDirLayout, command: string): Promise<void> {
  const holder: Holder = { pid: process.pid, command, since: new Date().toISOString() }
  await writeFileAtomic(layout.holderFile, JSON.stringify(holder) + '\n', 0o644)
}

export async function clearHolder (layout: DataDirLayout): Promise<void> {
  await rm(layout.holderFile, { force: true })
}

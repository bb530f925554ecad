/** What `peerpacs init` does (its options and help: commands/init.ts). */
import { open, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { relative, resolve, isAbsolute } from 'node:path'
import { PeerpacsError } from '../../../protocol/errors.ts'
import { encodeRecoveryKey } from '../../../protocol/recovery-key.ts'
import { createKeyring } from '../../keys/keyring.ts'
import { resolvePassphrase } from '../../keys/passphrase.ts'
import { provider, random } from '../../runtime.ts'
import { LevelKvStore } from '../../store/kv-level.ts'
import { keys } from '../../archive/index-layout.ts'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { DATA_DIR_FORMAT, DATA_DIR_VERSION, dataDirLayout, prepareNewDataDir, writeDataDirMeta } from '../../store/data-dir.ts'
import { UsageError } from '../command.ts'
import { EXIT } from '../exit-codes.ts'
import { addFirstAdmin, adminNameOf, defaultSignInUrl, noAdminLines, signInLines } from './init-admin.ts'
import { joinOrg } from './init-join.ts'
import type { CommandContext } from '../command.ts'

class RecoveryKeyOutError extends PeerpacsError {
  constructor (message: string) { super('RECOVERY_KEY_OUT', message) }
}

function inside (child: string, parent: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

export async function run (context: CommandContext): Promise<number> {
  const { values, dataDir, out, env } = context
  if (typeof values.join === 'string') {
    for (const name of ['name', 'recovery-key-out'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} is not for --join`, 'a joining node takes the org\'s name, and the org\'s recovery key exists already')
    }
    return await joinOrg(context, values.join)
  }
  // The admin's name and password were checked (secrets) before anything is created.
  const admin = context.secrets?.password === undefined ? undefined : { username: adminNameOf(values), password: context.secrets.password }
  const layout = dataDirLayout(dataDir)
  const name = typeof values.name === 'string' ? values.name : `peerpacs-${hostname()}`
  const keyOut = typeof values['recovery-key-out'] === 'string' ? resolve(values['recovery-key-out']) : undefined
  if (keyOut !== undefined && inside(keyOut, layout.root)) {
    throw new RecoveryKeyOutError('--recovery-key-out must be outside the data dir: the recovery key must not be stored with what it protects')
  }
  const passphrase = await resolvePassphrase(typeof values['passphrase-file'] === 'string' ? values['passphrase-file'] : undefined, env)
  // Claim the recovery key file before creating anything, so a failure leaves nothing behind.
  let keyFile
  if (keyOut !== undefined) {
    try {
      keyFile = await open(keyOut, 'wx', 0o600)
    } catch (error) {
      throw new RecoveryKeyOutError(`cannot create ${keyOut}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it already exists (not overwritten)' : (error as Error).message}`)
    }
  }
  try {
    await prepareNewDataDir(layout)
  } catch (error) {
    if (keyFile !== undefined) { await keyFile.close(); await rm(keyOut!, { force: true }) }
    throw error
  }
  let recoveryKey: string
  let nodeId: string
  let orgId: string
  try {
    const { keyring, recoverySeed } = await createKeyring(layout.keysDir, { passphrase, orgName: name, provider, random, now: Date.now() })
    recoveryKey = encodeRecoveryKey(provider, recoverySeed)
    recoverySeed.fill(0)
    nodeId = keyring.nodeId
    orgId = keyring.orgId
    const index = await LevelKvStore.open(layout.indexDir, { create: true })
    await index.batch([{ type: 'put', key: keys.owner, value: utf8Encode(nodeId) }])
    await index.close()
    if (keyFile !== undefined) {
      await keyFile.writeFile(recoveryKey + '\n')
      await keyFile.sync()
      await keyFile.close()
      keyFile = undefined
    }
    // Written last: a data dir is initialised only once everything else is in place.
    await writeDataDirMeta(layout, { format: DATA_DIR_FORMAT, version: DATA_DIR_VERSION, nodeId, orgId, orgName: name, created: new Date().toISOString() })
  } catch (error) {
    if (keyFile !== undefined) await keyFile.close()
    if (keyOut !== undefined) await rm(keyOut, { force: true })
    // Remove only what init created; the folder itself may have existed (empty) before.
    for (const path of [layout.metaFile, layout.keysDir, layout.indexDir, layout.blobsDir]) await rm(path, { recursive: true, force: true })
    throw error
  }

  // The org exists from here on: a failure to add the admin is reported, with the way to add one.
  let adminId: string | undefined
  let adminError: unknown
  if (admin !== undefined) {
    try {
      adminId = (await addFirstAdmin(layout.root, passphrase, admin.username, admin.password)).id
    } catch (error) {
      adminError = error
    }
  }

  if (passphrase === undefined) {
    out.warn(`no passphrase given: the node's keys in ${layout.keysDir} are stored unsealed, protected only by file permissions. ` +
      'To seal them, start over with PEERPACS_PASSPHRASE set or --passphrase-file FILE.')
  }
  out.record({
    type: 'init', dataDir: layout.root, nodeId, orgId, orgName: name, sealed: passphrase !== undefined,
    ...(keyOut === undefined ? { recoveryKey } : { recoveryKeyFile: keyOut }),
    admin: adminId === undefined ? null : { id: adminId, username: admin!.username, signIn: defaultSignInUrl() }
  })
  out.line(`Initialised ${layout.root}`)
  out.line(`  org:     ${name} (${orgId})`)
  out.line(`  node id: ${nodeId}`)
  out.line(`  keys:    ${passphrase === undefined ? 'NOT sealed (no passphrase)' : 'sealed with the passphrase'}`)
  out.line('')
  if (keyOut !== undefined) {
    out.line(`The recovery key was written to ${keyOut} (mode 0600). Move it offline; it is not kept here.`)
  } else {
    out.line('RECOVERY KEY (shown once, never stored; write it down and keep it offline):')
    out.line('')
    out.line(`    ${recoveryKey}`)
    out.line('')
    out.line('It restores this org from its backup if every node is lost.')
  }
  out.line('')
  if (adminId !== undefined) {
    out.line(`Admin account: ${admin!.username} (${adminId}).`)
    for (const line of signInLines(admin!.username, defaultSignInUrl(), false)) out.line(line)
  } else if (adminError === undefined) {
    for (const line of noAdminLines(layout.root, values['no-admin'] === true)) out.line(line)
  }
  if (adminError !== undefined) {
    out.error(`the org was made, but its admin account was not: ${(adminError as Error).message}`, 'add it with `peerpacs users add USERNAME --role admin`')
    return EXIT.PROBLEMS
  }
  return EXIT.OK
}

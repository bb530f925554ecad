/**
 * Remote AEs bound to a person role (issue 14): `dicom.remotes[i].role` in the config file decides
 * what the AE may do through the same role table as the HTTP routes (people/roles.ts →
 * dimse/access.ts): a modality (technologist) stores, a workstation (radiologist) queries and
 * retrieves. Every DIMSE service × every role is run with dcmtk's tools against a node started
 * from that config, and checked against EXPECTED written out here. A refused service is refused
 * as the node refuses today: its presentation context is rejected at association (user
 * rejection), so the tool has nothing to send it on. A role beside explicit flags is a config
 * error; a remote without a role keeps its flags.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadSettings } from '../../../node/config/config.ts'
import type { PersonRole } from '../../../node/people/roles.ts'
import { NODE_AE, runTool, startDimseNode, startStorescp, type DimseNode } from '../../helpers/dimse-node.ts'
import { tempDir } from '../../helpers/files.ts'
import { build, e, requiredElements, smallImage, UIDS } from '../../unit/node/helpers/dicom.ts'

type Service = 'echo' | 'store' | 'find' | 'move' | 'get'
const SERVICES: readonly Service[] = ['echo', 'store', 'find', 'move', 'get']

/** Y allowed, N refused. Columns: C-ECHO C-STORE C-FIND C-MOVE C-GET. */
const EXPECTED: Record<PersonRole, string> = {
  admin: 'YNNNN',
  radiologist: 'YNYYY',
  technologist: 'YYNNN', // a modality; its own-site reads are not offered on DIMSE (no per-study limit there)
  referrer: 'YNNNN', // reads only what is shared with them: nothing over DIMSE
  auditor: 'YNNNN',
  integration: 'YYYYY'
}

const AE: Record<PersonRole, string> = {
  admin: 'AE_ADMIN', radiologist: 'WORKSTATION', technologist: 'MODALITY', referrer: 'AE_REFERRER', auditor: 'AE_AUDITOR', integration: 'AE_INTEGRATION'
}

async function configFile (dir: string, config: unknown): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(path, JSON.stringify(config))
  return path
}

function instanceFile (n: number): Uint8Array {
  const sop = `${UIDS.study}.77.${n}`
  return build({ sopInstanceUid: sop, elements: [...requiredElements().filter((x) => x.tag !== 0x0008_0018), e(0x0008_0018, 'UI', sop), ...smallImage()] })
}

const REFUSED = /No Acceptable Presentation Contexts|No presentation context|No valid Presentation Context|No adequate Presentation Contexts/i

async function run (t: Parameters<typeof runTool>[0], node: DimseNode, role: PersonRole, service: Service, files: { dir: string, storeFile: string }): Promise<{ ok: boolean, refusedAtNegotiation: boolean, out: string }> {
  const ae = AE[role]
  const peer = ['127.0.0.1', String(node.port)]
  const study = ['-k', `StudyInstanceUID=${UIDS.study}`]
  let r
  let ok: (out: string, code: number | null) => boolean
  switch (service) {
    case 'echo':
      r = await runTool(t, 'echoscu', ['-v', '-aet', ae, '-aec', NODE_AE, ...peer])
      ok = (out, code) => code === 0 && /Received Echo Response \(Success\)/.test(out)
      break
    case 'store': {
      const before = node.pacs.instanceCount
      r = await runTool(t, 'storescu', ['-v', '-aet', ae, '-aec', NODE_AE, ...peer, files.storeFile])
      const after = node.pacs.instanceCount
      ok = (out, code) => code === 0 && after === before + 1 && !/Store Failed|Status: [^S]/i.test(out)
      break
    }
    case 'find':
      r = await runTool(t, 'findscu', ['-v', '-S', '-aet', ae, '-aec', NODE_AE, '-k', 'QueryRetrieveLevel=STUDY', ...study, ...peer])
      ok = (out, code) => code === 0 && /Find Response: 1 \(Pending/.test(out) && /Received Final Find Response \(Success\)/.test(out)
      break
    case 'move':
      r = await runTool(t, 'movescu', ['-v', '-S', '-aet', ae, '-aec', NODE_AE, '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', ...study, ...peer])
      ok = (out, code) => code === 0 && /Received Final Move Response \(Success\)/.test(out)
      break
    case 'get': {
      const out = await tempDir(t, 'peerpacs-ae-roles-get-')
      r = await runTool(t, 'getscu', ['-v', '-S', '-aet', ae, '-aec', NODE_AE, '-od', out, '-k', 'QueryRetrieveLevel=STUDY', ...study, ...peer])
      ok = (text, code) => code === 0 && /Received C-GET Response \(Success\)/.test(text) && /Number of Completed Suboperations : [1-9]/.test(text)
      break
    }
  }
  const out = r.stdout + r.stderr
  return { ok: ok(out, r.code), refusedAtNegotiation: REFUSED.test(out), out }
}

test('every DIMSE service with an AE of every role, against the literal table; refusals at negotiation', async (t) => {
  const dir = await tempDir(t, 'peerpacs-ae-roles-')
  const dest = await startStorescp(t, 'DEST')
  const roles = Object.keys(EXPECTED) as PersonRole[]
  const settings = await loadSettings({
    dataDir: dir,
    configFile: await configFile(dir, {
      dicom: {
        remotes: [
          ...roles.map((role) => ({ aeTitle: AE[role], host: '127.0.0.1', role })),
          { aeTitle: 'DEST', host: '127.0.0.1', port: dest.port, store: false, query: false, retrieve: false }
        ]
      }
    })
  })
  assert.deepEqual(settings.dimse.remotes.find((r) => r.aeTitle === 'MODALITY'), { aeTitle: 'MODALITY', host: '127.0.0.1', role: 'technologist', store: true, query: false, retrieve: false })
  const node = await startDimseNode(t, { remotes: settings.dimse.remotes })
  const seed = build()
  await node.pacs.ingest((async function * () { yield seed })(), seed.length)
  assert.equal(node.pacs.instanceCount, 1)

  const mismatches: string[] = []
  for (const [i, role] of roles.entries()) {
    const storeFile = join(dir, `store-${role}.dcm`)
    await writeFile(storeFile, instanceFile(i))
    for (const [j, service] of SERVICES.entries()) {
      const expected = EXPECTED[role][j] === 'Y'
      const got = await run(t, node, role, service, { dir, storeFile })
      if (got.ok !== expected) mismatches.push(`${role} ${service}: expected ${expected ? 'allowed' : 'refused'}, got ${got.ok ? 'allowed' : 'refused'}\n${got.out.slice(-600)}`)
      else if (!expected && !got.refusedAtNegotiation) mismatches.push(`${role} ${service}: refused, but not by rejecting its presentation context\n${got.out.slice(-600)}`)
    }
  }
  assert.deepEqual(mismatches, [])
  // Two stores were allowed (technologist, integration): the seed and those two.
  assert.equal(node.pacs.instanceCount, 3)
  const refusals = node.logs.filter((l) => l.includes('dimse.association.accepted') && l.includes('AE_AUDITOR'))
  assert.ok(refusals.length > 0, 'an AE whose services are all refused still associates (C-ECHO stays open)')
})

test('a role beside explicit store/query/retrieve flags, or an unknown role, is a config error naming the key; no role keeps the flags', async (t) => {
  const dir = await tempDir(t, 'peerpacs-ae-roles-config-')
  const load = async (remote: Record<string, unknown>): Promise<unknown> => await loadSettings({ dataDir: dir, configFile: await configFile(dir, { dicom: { remotes: [remote] } }) })
  await assert.rejects(load({ aeTitle: 'CT1', host: '10.0.0.5', role: 'technologist', query: true }),
    (err: unknown) => err instanceof ConfigError && /dicom\.remotes\[0\]: give either "role" or "store"\/"query"\/"retrieve", not both \(found role "technologist" and "query"\)/.test(err.message))
  await assert.rejects(load({ aeTitle: 'CT1', host: '10.0.0.5', role: 'wizard' }),
    (err: unknown) => err instanceof ConfigError && /dicom\.remotes\[0\]\.role: "wizard" is not a role; one of admin, radiologist, technologist, referrer, auditor, integration/.test(err.message))
  await assert.rejects(load({ aeTitle: 'CT1', host: '10.0.0.5', role: 7 }), (err: unknown) => err instanceof ConfigError && /dicom\.remotes\[0\]\.role: must be a non-empty string/.test(err.message))
  const plain = await loadSettings({ dataDir: dir, configFile: await configFile(dir, { dicom: { remotes: [{ aeTitle: 'CT1', host: '10.0.0.5', store: true, query: false, retrieve: false }] } }) })
  assert.deepEqual(plain.dimse.remotes, [{ aeTitle: 'CT1', host: '10.0.0.5', store: true, query: false, retrieve: false }], 'an existing config is read as before')
  const ws = await loadSettings({ dataDir: dir, configFile: await configFile(dir, { dicom: { remotes: [{ aeTitle: 'WS', host: '*', port: 104, role: 'radiologist' }] } }) })
  assert.deepEqual(ws.dimse.remotes, [{ aeTitle: 'WS', host: '*', port: 104, role: 'radiologist', store: false, query: true, retrieve: true }])
})

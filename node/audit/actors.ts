/**
 * Who takes part in an audited event, as the audit vocabulary names them: a remote AE (its
 * title and address), an HTTP client (its token), a person at this machine's CLI, this node.
 */
import { hostname, userInfo } from 'node:os'
import { NETWORK_ACCESS_POINT, type Actor, type StudyRef } from '../../protocol/audit/index.ts'
import type { InstanceHeader } from '../dicom/instance-header.ts'

/** Someone known only by what they are called here and where they connected from. */
export function networkUser (userId: string, address: string | undefined): Actor {
  return { userId, ...addressOf(address) }
}

export function remoteAe (aeTitle: string, address: string | undefined): Actor {
  return { userId: aeTitle === '' ? 'UNKNOWN-AE' : aeTitle, ...addressOf(address) }
}

export function tokenUser (token: { id: string, name: string }, address: string | undefined): Actor {
  return { userId: `token:${token.id}`, userName: token.name, ...addressOf(address) }
}

/** A person signed in with an account: their username, account id and display name. */
export function personUser (account: { id: string, username: string, displayName: string }, address: string | undefined): Actor {
  return { userId: account.username, altUserId: `user:${account.id}`, userName: account.displayName, ...addressOf(address) }
}

/** The operating-system user running a CLI command on this machine. */
export function cliUser (): Actor {
  let name = 'unknown'
  try { name = userInfo().username } catch { /* no passwd entry (a container): keep "unknown" */ }
  return { userId: `os:${name}`, userName: name, networkAccessPointId: hostname(), networkAccessPointType: NETWORK_ACCESS_POINT.machineName }
}

export function thisNode (nodeId: string, aeTitle?: string): Actor {
  return { userId: aeTitle ?? nodeId, altUserId: nodeId, networkAccessPointId: hostname(), networkAccessPointType: NETWORK_ACCESS_POINT.machineName }
}

function addressOf (address: string | undefined): Partial<Actor> {
  if (address === undefined || address === '') return {}
  return { networkAccessPointId: address.replace(/^::ffff:/, ''), networkAccessPointType: NETWORK_ACCESS_POINT.ipAddress }
}

type StudyInstance = Pick<InstanceHeader, 'studyInstanceUid' | 'patientId' | 'patientName' | 'sopClassUid'>

/**
 * The studies (with patient and SOP class counts) that instances seen one by one belong to:
 * memory grows with studies, not instances, so an import of a million instances keeps a tally
 * of its few thousand studies rather than every header.
 */
export class StudyTally {
  readonly #studies = new Map<string, { ref: StudyRef, classes: Map<string, number> }>()

  add (i: StudyInstance): void {
    let s = this.#studies.get(i.studyInstanceUid)
    if (s === undefined) {
      s = { ref: { studyUid: i.studyInstanceUid, ...(i.patientId === undefined ? {} : { patientId: i.patientId }), ...(i.patientName === undefined ? {} : { patientName: i.patientName }) }, classes: new Map() }
      this.#studies.set(i.studyInstanceUid, s)
    }
    s.classes.set(i.sopClassUid, (s.classes.get(i.sopClassUid) ?? 0) + 1)
  }

  get studies (): number { return this.#studies.size }

  refs (): StudyRef[] {
    return [...this.#studies.values()].map(({ ref, classes }) => ({ ...ref, sopClasses: [...classes].map(([uid, instances]) => ({ uid, instances })) }))
  }
}

/** Groups instances into the studies (with patient and SOP class counts) an audit record names. */
export function studyRefs (instances: Iterable<StudyInstance>): StudyRef[] {
  const tally = new StudyTally()
  for (const i of instances) tally.add(i)
  return tally.refs()
}

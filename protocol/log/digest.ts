/**
 * A canonical digest of an OrgState: SHA-256 of a canonical encoding with every map and set in
 * sorted order, so two replicas (or the incremental and the replayed state) compare by one hash.
 */
import { encodeCanonical, type CanonicalValue } from '../canonical.ts'
import type { CryptoProvider } from '../crypto-provider.ts'
import { toHex } from '../encoding.ts'
import { encodeEpochBody } from './epoch.ts'
import type { OrgState } from './state.ts'

const sorted = <K extends string, V>(map: ReadonlyMap<K, V>): Array<[K, V]> => [...map].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)

export function stateToCanonical (state: OrgState): CanonicalValue {
  return {
    org: state.orgId,
    genesis: state.genesis,
    name: state.name,
    recovery: state.recovery,
    members: sorted(state.members).map(([id, m]) => [id, m.role, sorted(m.levels), m.removed, [...m.removedScopes].sort(), [...m.addresses], m.addedBy]),
    epochs: state.epochs.map((e) => [e.id, e.index, e.author, encodeEpochBody(e.body)]),
    studies: sorted(state.studies).map(([id, s]) => [id, s.registerOp, s.registeredBy, s.epoch, s.wrappedKey, s.sealed,
      // An op's sealed list is shared by all its instances: encoded once, with its first.
      sorted(s.instances).map(([key, i]) => [key, i.author, i.blob.id, i.index, i.index <= 0 ? i.sealed : new Uint8Array(0)])]),
    audit: sorted(state.audit).map(([id, list]) => [id, [...list]]),
    caseUpdates: sorted(state.caseUpdates).map(([id, list]) => [id, [...list]]),
    forks: sorted(state.forks).map(([id, f]) => [id, f.seq, [...f.evidence]]),
    rejected: sorted(state.rejected),
    // Only when there are accounts, so the digest of a log from before accounts existed is unchanged.
    ...(state.users.size === 0 ? {} : { users: sorted(state.users).map(([id, u]) => [id, u.addOp, u.record.op, [...u.disables]]) })
  }
}

export function stateDigest (provider: CryptoProvider, state: OrgState): string {
  return toHex(provider.sha256(encodeCanonical(stateToCanonical(state))))
}

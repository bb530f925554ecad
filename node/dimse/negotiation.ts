/**
 * Which presentation contexts an association accepts, and in which transfer syntax: the
 * caller's permissions decide the SOP classes (verification always; query, retrieve and store as
 * access.ts allows), and the first proposed syntax peerpacs can take is accepted as is
 * (syntaxes.ts: nothing is transcoded). A storage context proposed with the SCP role is for the
 * C-STOREs of a C-GET: it takes the one syntax most stored instances of that class are in.
 */
import type { Permissions } from './access.ts'
import { FIND_CLASSES } from './find-responses.ts'
import { constants } from './library.ts'
import { GET, isStorageClass, MOVE, STORAGE_SYNTAXES, UNCOMPRESSED, VERIFICATION } from './syntaxes.ts'

const { PresentationContextResult: PC } = constants
const RETRIEVE_CLASSES = new Set<string>([MOVE.patientRoot, MOVE.studyRoot, GET.patientRoot, GET.studyRoot])

/** A context's answer: its result code and, when accepted, the syntax. */
export type ContextResult = [number, string | undefined]

/** What negotiating one context may look at besides the context itself. */
export interface NegotiationInputs {
  readonly permissions: Permissions
  /** Syntaxes already accepted on this association for a SOP class (for C-GET contexts). */
  readonly acceptedSyntaxesOf: (sopClassUid: string) => ReadonlySet<string>
  /** How many stored instances of a SOP class are in each transfer syntax (for C-GET contexts). */
  readonly storedSyntaxCounts: (sopClassUid: string) => ReadonlyMap<string, number>
}

export function negotiateContext (abstract: string, proposed: readonly string[], providerRole: boolean, inputs: NegotiationInputs): ContextResult {
  const p = inputs.permissions
  const firstOf = (allowed: ReadonlySet<string>): ContextResult => {
    const syntax = proposed.find((ts) => allowed.has(ts))
    return syntax === undefined ? [PC.RejectTransferSyntaxesNotSupported, undefined] : [PC.Accept, syntax]
  }
  if (abstract === VERIFICATION) return firstOf(UNCOMPRESSED)
  if (FIND_CLASSES.has(abstract)) return p.query ? firstOf(UNCOMPRESSED) : [PC.RejectUser, undefined]
  if (RETRIEVE_CLASSES.has(abstract)) return p.retrieve ? firstOf(UNCOMPRESSED) : [PC.RejectUser, undefined]
  if (isStorageClass(abstract)) {
    // Proposed with the SCP role: the caller will receive C-STOREs of a C-GET on it.
    if (providerRole && p.retrieve) return getSyntax(abstract, proposed, inputs)
    if (!p.store) return [PC.RejectUser, undefined]
    return firstOf(STORAGE_SYNTAXES)
  }
  return [PC.RejectAbstractSyntaxNotSupported, undefined]
}

/**
 * A storage context for C-GET takes one syntax, and nothing is transcoded, so it takes the
 * proposed syntax most instances of that SOP class are stored in (one not yet accepted for the
 * class first); the caller can propose the class again with other syntaxes to receive the rest.
 */
function getSyntax (sopClassUid: string, proposed: readonly string[], inputs: NegotiationInputs): ContextResult {
  const offered = proposed.filter((ts) => STORAGE_SYNTAXES.has(ts))
  if (offered.length === 0) return [PC.RejectTransferSyntaxesNotSupported, undefined]
  const taken = inputs.acceptedSyntaxesOf(sopClassUid)
  const counts = inputs.storedSyntaxCounts(sopClassUid)
  const ranked = [...offered].sort((a, b) => Number(taken.has(a)) - Number(taken.has(b)) || (counts.get(b) ?? 0) - (counts.get(a) ?? 0))
  return [PC.Accept, ranked[0]]
}

/**
 * The receiver's check of a Yjs update that arrived in a `case.update` op, before it touches a
 * document. An update (Yjs v1 encoding) is a list of structs, grouped by client id, followed by
 * a delete set of (client, clock, length) ranges. The rule:
 *
 * - Every struct (item, GC, skip) carries the client id bound to the signer (client-id.ts):
 *   nobody can insert content under another member's id.
 * - Every deletion (delete-set entry) names the signer's client id too: a member deletes only
 *   what it wrote. A delete-set entry names the client of the *deleted* item, so this also means
 *   a member cannot overwrite a Y.Map key another member set, nor cut another member's text:
 *   each member owns its notes, labels and report text (issue 4's rule, "only structs and
 *   deletions of client ids bound to the signing member"). CaseDoc.localChange refuses such an
 *   edit before it touches the local document, so a member's own copy never runs ahead of what
 *   every other replica will accept.
 * - Bytes are bounded (`maxBytes`) and decoding is linear in them (every loop of the Yjs decoder
 *   consumes input or throws), so hostile bytes cannot hang the receiver; anything the decoder
 *   throws becomes a CaseUpdateRejectedError. Clocks and lengths are bounded (`maxClock`) so
 *   arithmetic on them stays exact, and zero-length structs (which Yjs never writes) are refused.
 * - Subdocuments (ContentDoc) and the legacy ContentJSON are refused: case documents use neither.
 * - An item may refer (origin, right origin, parent) to earlier clocks of its own client only:
 *   Yjs trusts those to exist and would throw half-way through applying otherwise.
 *
 * Yjs reads updates with two parsers, one to inspect (decodeUpdate) and one to apply, and they
 * differ on odd input (an info byte of 10 plus flag bits is a skip to one and an error to the
 * other; a client's second section replaces its first in one only). So `admitCaseUpdate`, which
 * CaseDoc uses, re-encodes the checked update with Yjs's own writer and checks the result again:
 * the bytes applied are exactly the bytes checked.
 */
import * as Y from 'yjs'
import { describe, expectBytes, expectInteger, expectObject, isBytes } from '../bytes.ts'
import { PeerpacsError, type ErrorOptions } from '../errors.ts'

export type CaseUpdateRejection =
  | 'too-large'
  | 'malformed'
  | 'foreign-struct'
  | 'foreign-deletion'
  | 'forbidden-content'
  | 'out-of-range'
  | 'apply-failed'

/** A Yjs update that a case document refuses; `reason` says which rule it broke. */
export class CaseUpdateRejectedError extends PeerpacsError {
  static readonly code = 'CASE_UPDATE_REJECTED'
  readonly reason: CaseUpdateRejection

  constructor (reason: CaseUpdateRejection, message: string, options?: ErrorOptions) {
    super(CaseUpdateRejectedError.code, message, options)
    this.reason = reason
  }
}

export interface CaseUpdateLimits {
  /** Largest update accepted, in bytes. */
  readonly maxBytes: number
  /** Exclusive bound on clock + length of every struct and deletion range. */
  readonly maxClock: number
}

/** An update must fit, sealed, in one op (≤ 256 KiB with its envelope). */
export const DEFAULT_CASE_UPDATE_LIMITS: CaseUpdateLimits = Object.freeze({ maxBytes: 192 * 1024, maxClock: 2 ** 32 })

/** Largest client id: ids are 32-bit (client-id.ts). */
const MAX_CLIENT = 2 ** 32 - 1
const EMPTY_STATE_VECTOR = new Uint8Array([0])

export function expectLimits (limits: CaseUpdateLimits, name: string): CaseUpdateLimits {
  expectObject(limits, name)
  expectInteger(limits.maxBytes, `${name}.maxBytes`, 1)
  expectInteger(limits.maxClock, `${name}.maxClock`, 1)
  return limits
}

function decode (update: Uint8Array): ReturnType<typeof Y.decodeUpdate> {
  try {
    return Y.decodeUpdate(update)
  } catch (cause) {
    throw new CaseUpdateRejectedError('malformed', `case update of ${update.length} bytes does not decode as a Yjs v1 update: ${cause instanceof Error ? cause.message : describe(cause)}`, { cause })
  }
}

function checkDecoded (update: Uint8Array, allowedClient: number, limits: CaseUpdateLimits): void {
  const { structs, ds } = decode(update)
  for (const struct of structs) {
    const { client, clock } = struct.id
    if (client !== allowedClient) {
      throw new CaseUpdateRejectedError('foreign-struct', `case update carries a struct of client ${client}; the signer's client id is ${allowedClient}`, {
        hint: 'a member may only insert content under its own client id; this update claims another author'
      })
    }
    if (!Number.isSafeInteger(struct.length) || struct.length < 1) {
      throw new CaseUpdateRejectedError('malformed', `case update carries a struct of length ${struct.length} at clock ${clock} (expected ≥ 1)`)
    }
    if (clock + struct.length > limits.maxClock) {
      throw new CaseUpdateRejectedError('out-of-range', `case update carries a struct ending at clock ${clock + struct.length}, beyond the limit of ${limits.maxClock}`)
    }
    if (struct instanceof Y.Item) {
      if (struct.content instanceof Y.ContentDoc || struct.content instanceof Y.ContentJSON) {
        throw new CaseUpdateRejectedError('forbidden-content', `case update carries a ${struct.content.constructor.name} at clock ${clock}; case documents hold no subdocuments or legacy JSON content`)
      }
      // An item refers only to items that existed when it was made. Yjs waits for missing items
      // of other clients but trusts its own client's to be there.
      for (const ref of [struct.origin, struct.rightOrigin, struct.parent instanceof Y.ID ? struct.parent : null]) {
        if (ref !== null && ref.client === client && ref.clock >= clock) {
          throw new CaseUpdateRejectedError('malformed', `case update carries an item at clock ${clock} that refers to clock ${ref.clock} of its own client, which it cannot have seen`)
        }
      }
    }
  }
  for (const [client, ranges] of ds.clients) {
    if (!Number.isSafeInteger(client) || client < 0 || client > MAX_CLIENT) {
      throw new CaseUpdateRejectedError('out-of-range', `case update deletes content of client ${client}, which is not a 32-bit client id`)
    }
    for (const { clock, len } of ranges) {
      if (len < 1) throw new CaseUpdateRejectedError('malformed', `case update deletes a range of length ${len} of client ${client} (expected ≥ 1)`)
      if (clock + len > limits.maxClock) {
        throw new CaseUpdateRejectedError('out-of-range', `case update deletes up to clock ${clock + len} of client ${client}, beyond the limit of ${limits.maxClock}`)
      }
    }
    if (client !== allowedClient) {
      throw new CaseUpdateRejectedError('foreign-deletion', `case update deletes content of client ${client}; a member deletes only its own (the signer's client id is ${allowedClient})`)
    }
  }
}

function checkArguments (where: string, update: Uint8Array, allowedClient: number, limits: CaseUpdateLimits): void {
  expectBytes(update, `${where}(update)`)
  expectInteger(allowedClient, `${where}(allowedClient)`, 0, MAX_CLIENT)
  expectLimits(limits, `${where}(limits)`)
  if (update.length > limits.maxBytes) {
    throw new CaseUpdateRejectedError('too-large', `case update of ${update.length} bytes exceeds the limit of ${limits.maxBytes}`, {
      hint: 'split large edits over several changes'
    })
  }
}

/** Throws CaseUpdateRejectedError unless `update` is one the signer with `allowedClient` may send. */
export function checkCaseUpdate (update: Uint8Array, allowedClient: number, limits: CaseUpdateLimits = DEFAULT_CASE_UPDATE_LIMITS): void {
  checkArguments('checkCaseUpdate', update, allowedClient, limits)
  checkDecoded(update, allowedClient, limits)
}

/**
 * checkCaseUpdate, then the update re-encoded by Yjs's writer and checked again: the bytes to
 * apply. Skip structs are dropped by the re-encoding (they say "nothing here").
 */
export function admitCaseUpdate (update: Uint8Array, allowedClient: number, limits: CaseUpdateLimits = DEFAULT_CASE_UPDATE_LIMITS): Uint8Array {
  checkCaseUpdate(update, allowedClient, limits)
  let normal: Uint8Array
  try {
    normal = Y.diffUpdate(update, EMPTY_STATE_VECTOR)
  } catch (cause) {
    throw new CaseUpdateRejectedError('malformed', `case update of ${update.length} bytes could not be re-encoded: ${cause instanceof Error ? cause.message : describe(cause)}`, { cause })
  }
  if (!isBytes(normal)) throw new CaseUpdateRejectedError('malformed', 'case update could not be re-encoded')
  checkDecoded(normal, allowedClient, { maxBytes: Number.MAX_SAFE_INTEGER, maxClock: limits.maxClock })
  return normal
}

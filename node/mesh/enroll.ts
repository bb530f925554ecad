/**
 * Enrollment over `/peerpacs/enroll/1.0.0` (protocol/wire/enroll.ts is the wire format;
 * docs/protocol.md "Enrollment"). The joining node dials the inviter presenting the invite key as
 * its libp2p identity: the inviter's gater admits that PeerId only while the invite is unexpired
 * and unused, so "presenting a valid invite" is the Noise handshake itself and a used invite is
 * refused before any stream opens. On the stream the joiner names its real node key (signed by
 * it); the inviter marks the invite used (durably, before writing anything), admits the node
 * (node/members/admit.ts, as `members add` does) and answers with the org's genesis op and its
 * addresses. The joiner then closes; it syncs the rest of the log later, as a member.
 */
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { equalBytes } from '../../protocol/bytes.ts'
import type { CryptoProvider } from '../../protocol/crypto-provider.ts'
import { PeerpacsError, type ErrorCode } from '../../protocol/errors.ts'
import { nodeIdFromPublicKey, nodeKeyFromSecret, type NodeKeyPair } from '../../protocol/identity.ts'
import type { InviteCode } from '../../protocol/invite.ts'
import { decodeOp } from '../../protocol/log/index.ts'
import {
  decodeEnrollAnswer, decodeEnrollRequest, encodeEnrollAnswer, encodeEnrollRequest, ENROLL_PROTOCOL, EnrollProtocolError,
  MAX_ENROLL_ANSWER_BYTES, MAX_ENROLL_REQUEST_BYTES, signEnrollRequest, verifyEnrollRequest, type EnrollAnswer
} from '../../protocol/wire/enroll.ts'
import type { Archive } from '../archive/archive.ts'
import { networkUser } from '../audit/actors.ts'
import type { Logger } from '../logging/logger.ts'
import { AdmissionAuditError, admitMember } from '../members/admit.ts'
import { MemberChangeRefusedError } from '../members/change.ts'
import { FrameError, framed } from './frames.ts'
import { createHost } from './host.ts'
import type { InviteStore } from './invites.ts'

export { ENROLL_PROTOCOL }
export const ENROLL_READ_TIMEOUT_MS = 10_000

/** None of the inviter's addresses could be reached. */
export class InviterUnreachableError extends PeerpacsError {
  static readonly code = 'INVITER_UNREACHABLE'
  constructor (tried: ReadonlyArray<{ addr: string, reason: string }>) {
    super(InviterUnreachableError.code, `cannot reach the inviting node at any of its addresses: ${tried.map((t) => `${t.addr} (${t.reason})`).join('; ')}`,
      { hint: 'check that the inviting node runs (`peerpacs start`) and that this machine can reach one of those addresses (network, firewall, VPN)' })
  }
}

/** The inviter dropped the connection at the handshake: its gater does not admit this invite. */
export class InviteRefusedError extends PeerpacsError {
  static readonly code = 'INVITE_REFUSED'
  constructor (addr: string) {
    super(InviteRefusedError.code, `the inviting node (${addr}) refused the connection: the invite was already used, withdrawn, expired by its clock, or not issued by it`,
      { hint: 'ask the admin for a new invite code' })
  }
}

/** The inviter answered the request with an error. */
export class EnrollRefusedError extends PeerpacsError {
  static readonly code = 'ENROLL_REFUSED'
  readonly remoteCode: string
  constructor (remoteCode: string, message: string) {
    super(EnrollRefusedError.code, `the inviting node refused the enrollment: ${message} (${remoteCode})`, { hint: 'nothing was set up here; ask the admin to check the inviting node\'s log, and for a new invite code if this one is used up' })
    this.remoteCode = remoteCode
  }
}

/** The inviter sent the genesis of another org than the code names. */
export class EnrollWrongOrgError extends PeerpacsError {
  static readonly code = 'ENROLL_WRONG_ORG'
  constructor (message: string) { super(EnrollWrongOrgError.code, message, { hint: 'the inviting node is not the one the code came from; nothing was set up here' }) }
}

export interface EnrollContext {
  readonly archive: Archive
  readonly invites: InviteStore
  /** This node's addresses, for the joiner to dial later. */
  readonly addresses: () => string[]
  readonly log: Logger
  readonly onAdmitted?: (nodeId: string) => void
  /** How long the request may take to arrive (default ENROLL_READ_TIMEOUT_MS). */
  readonly readTimeoutMs?: number
}

/** Answers and ends the stream; an answer that cannot be sent aborts it. */
async function answer (stream: Stream, f: ReturnType<typeof framed>, message: EnrollAnswer, abort = false): Promise<void> {
  try {
    await f.write(encodeEnrollAnswer(message))
    if (abort) stream.abort(new Error(message.t === 'refused' ? message.message : 'enroll aborted'))
    else await stream.close()
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
  }
}

/** The inviter's side: a stream handler for ENROLL_PROTOCOL. */
export function handleEnroll (ctx: EnrollContext): StreamHandler {
  return async (stream: Stream, connection: Connection) => {
    const peer = connection.remotePeer
    const from = connection.remoteAddr.toString()
    const f = framed(stream, { maxFrameBytes: MAX_ENROLL_REQUEST_BYTES, readTimeoutMs: ctx.readTimeoutMs ?? ENROLL_READ_TIMEOUT_MS })
    // The wire code of a refusal is the error code's own text (protocol/wire/enroll.ts).
    const refuse = async (code: ErrorCode, message: string, abort = false): Promise<void> => {
      ctx.log.warn('enroll.refused', { peer: peer.toString(), from, code, message })
      await answer(stream, f, { t: 'refused', code, message }, abort)
    }
    if (!ctx.invites.isInvite(peer)) {
      await refuse('ENROLL_NOT_INVITE', 'this connection does not present an invite of this node')
      return
    }
    let request
    try {
      request = decodeEnrollRequest(await f.read())
    } catch (error) {
      const known = error instanceof EnrollProtocolError || error instanceof FrameError
      await refuse(known ? (error as PeerpacsError).code : 'ENROLL_PROTOCOL', known ? (error as Error).message : 'the enrollment request could not be read', true)
      return
    }
    const invitePublicKey = peer.publicKey?.raw
    if (invitePublicKey === undefined || !verifyEnrollRequest(ctx.archive.provider, request, ctx.archive.keyring.orgId, invitePublicKey)) {
      await refuse('ENROLL_BAD_SIGNATURE', 'the enrollment request is not signed by the node key it names, for this org and this invite')
      return
    }
    if (equalBytes(request.node, invitePublicKey)) {
      await refuse('ENROLL_INVITE_KEY', 'the node key is the invite key: a node needs a key of its own')
      return
    }
    const nodeId = nodeIdFromPublicKey(request.node)
    let invite
    try {
      invite = await ctx.invites.claim(peer, nodeId)
    } catch (error) {
      if (error instanceof PeerpacsError) await refuse(error.code, error.message)
      else {
        ctx.log.error('enroll.claim.failed', { peer: peer.toString(), error: String(error) })
        await refuse('INTERNAL', 'the invite could not be marked used; nothing was written')
      }
      return
    }
    try {
      const admitted = await admitMember(ctx.archive, {
        member: request.node, role: invite.role, level: invite.level, scope: invite.scope, reason: `enrolled with invite ${invite.id}`, reporter: networkUser(nodeId, hostOf(from))
      }).catch((error: unknown) => {
        // The member was added; only its audit record is missing: the enrollment stands.
        if (error instanceof AdmissionAuditError) { ctx.log.error('enroll.audit.failed', { nodeId, error: error.message }); return error.admitted }
        throw error
      })
      ctx.log.info('enroll.admitted', { nodeId, invite: invite.id, role: invite.role, grant: invite.level, scope: invite.scope, op: admitted.ops[0]!.idHex, epoch: admitted.epochId, from })
    } catch (error) {
      const message = error instanceof MemberChangeRefusedError ? error.message : 'this node could not write the new member into the log'
      ctx.log.error('enroll.admit.failed', { nodeId, invite: invite.id, error: (error as Error).message })
      await refuse(error instanceof PeerpacsError ? error.code : 'INTERNAL', `${message} (the invite is used up)`)
      return
    }
    await answer(stream, f, { t: 'welcome', genesis: ctx.archive.keyring.org.genesisBytes, addrs: ctx.addresses().slice(0, 16) })
    ctx.onAdmitted?.(nodeId)
  }
}

function hostOf (multiaddrText: string): string | undefined {
  const m = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(multiaddrText)
  return m?.[1]
}

function peerIdText (addr: string): string | undefined {
  const at = addr.lastIndexOf('/p2p/')
  return at < 0 ? undefined : addr.slice(at + 5).split('/')[0]
}

export interface EnrollOptions {
  readonly provider: CryptoProvider
  /** Per address: dialling, then the exchange (ms). */
  readonly timeoutMs: number
}

export interface Enrolled {
  readonly genesisBytes: Uint8Array
  /** The inviter's addresses (as it answered, else as the code named them). */
  readonly addrs: string[]
}

/**
 * Whether a dial failed because the remote ended the connection during the upgrade: what a
 * listener's gater does to a PeerId it refuses (right after the Noise handshake). Timeouts,
 * refused TCP connections and peers that do not speak libp2p are "unreachable" instead.
 */
function droppedAfterHandshake (error: unknown): boolean {
  // libp2p may reject the dial with the connection's close Event itself (not an Error) when the
  // listener drops it during the upgrade.
  if (error instanceof Event) return true
  const name = (error as Error)?.name ?? ''
  const message = (error as Error)?.message ?? ''
  return name === 'UnexpectedEOFError' || name === 'StreamResetError' || /stream closed|ECONNRESET|connection reset/i.test(message)
}

function reasonOf (error: unknown): string {
  if (error instanceof Event) return `the connection was closed by the other side (${error.type})`
  const name = (error as Error)?.name ?? ''
  const message = ((error as Error)?.message ?? String(error)).slice(0, 200)
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer in time'
  if (/ECONNREFUSED/.test(message)) return 'connection refused: nothing listens there'
  if (name === 'EncryptionFailedError') return `what answers there is not a peerpacs node (${message})`
  return message
}

/**
 * The joiner's side: a temporary dial-only host presenting the invite key, which dials the
 * code's addresses in turn and runs the exchange on the first that answers. Throws
 * InviterUnreachableError, InviteRefusedError, EnrollRefusedError or EnrollWrongOrgError.
 */
export async function enrollWithInvite (code: InviteCode, nodeKey: NodeKeyPair, options: EnrollOptions): Promise<Enrolled> {
  const invite = nodeKeyFromSecret(code.secret)
  if (equalBytes(invite.publicKey, nodeKey.publicKey)) throw new EnrollRefusedError('ENROLL_INVITE_KEY', 'the node key must not be the invite key')
  const inviters = new Set(code.addrs.map(peerIdText).filter((p) => p !== undefined))
  const request = encodeEnrollRequest(signEnrollRequest(options.provider, nodeKey, code.org, invite.publicKey))
  const host = await createHost({ seed: code.secret, listen: [], gate: (peer: PeerId) => inviters.has(peer.toString()) })
  const tried: Array<{ addr: string, reason: string }> = []
  let refusedAt: string | undefined
  try {
    for (const addr of code.addrs) {
      let stream: Stream
      try {
        stream = await host.dialProtocol(multiaddr(addr), ENROLL_PROTOCOL, { signal: AbortSignal.timeout(options.timeoutMs) })
      } catch (error) {
        if (droppedAfterHandshake(error)) refusedAt ??= addr
        tried.push({ addr, reason: reasonOf(error) })
        continue
      }
      const f = framed(stream, { maxFrameBytes: MAX_ENROLL_ANSWER_BYTES, readTimeoutMs: options.timeoutMs })
      let reply: EnrollAnswer
      try {
        await f.write(request)
        reply = decodeEnrollAnswer(await f.read())
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)))
        if (error instanceof EnrollProtocolError) throw new EnrollRefusedError('ENROLL_PROTOCOL', `its answer could not be read: ${error.message}`)
        if (droppedAfterHandshake(error)) refusedAt ??= addr
        tried.push({ addr, reason: reasonOf(error) })
        continue
      }
      try { await stream.close() } catch { /* the answer is in */ }
      if (reply.t === 'refused') throw new EnrollRefusedError(reply.code, reply.message)
      let genesisId: string
      try {
        const genesis = decodeOp(options.provider, reply.genesis)
        if (genesis.type !== 'org.genesis') throw new Error(`a ${genesis.type} op`)
        genesisId = genesis.idHex
      } catch (error) {
        throw new EnrollWrongOrgError(`the inviting node sent no valid genesis op: ${(error as Error).message}`)
      }
      if (genesisId !== code.org) throw new EnrollWrongOrgError(`the inviting node sent the genesis of org ${genesisId}, but the invite names org ${code.org}`)
      return { genesisBytes: reply.genesis, addrs: reply.addrs.length > 0 ? [...reply.addrs] : [...code.addrs] }
    }
  } finally {
    try { await host.stop() } catch { /* stopping a dial-only host */ }
  }
  if (refusedAt !== undefined) throw new InviteRefusedError(refusedAt)
  throw new InviterUnreachableError(tried)
}

/**
 * Audit of the HTTP edge's authentication: 110114 User Authentication when an API token is used
 * (once per token and address every ten minutes: a viewer sends hundreds of requests a minute,
 * and each request that reads PHI has its own record anyway), and 110113 Security Alert when a
 * bearer is refused (once per address a minute, so a flood of bad requests cannot flood the log).
 */
import { EVENT_TYPE, nodeSource, OUTCOME, securityAlertEvent, userAuthenticationEvent } from '../../protocol/audit/index.ts'
import type { AuditPort } from './audit-port.ts'
import { networkUser, thisNode, tokenUser } from './actors.ts'

const TOKEN_WINDOW_MS = 10 * 60_000
const REFUSED_WINDOW_MS = 60_000
const MAX_REMEMBERED = 10_000

type AuthEvent = { ok: true, token: { id: string, name: string }, remote: string | undefined } | { ok: false, remote: string | undefined }

export function httpAuthAudit (audit: AuditPort): (event: AuthEvent) => void {
  const last = new Map<string, number>()
  const due = (key: string, window: number): boolean => {
    const now = Date.now()
    if ((last.get(key) ?? 0) > now - window) return false
    if (last.size >= MAX_REMEMBERED) last.clear()
    last.set(key, now)
    return true
  }
  return (event) => {
    const source = nodeSource(audit.nodeId)
    const self = thisNode(audit.nodeId)
    if (event.ok) {
      if (!due(`ok\u0000${event.token.id}\u0000${event.remote ?? ''}`, TOKEN_WINDOW_MS)) return
      audit.emit(userAuthenticationEvent({ time: Date.now(), source, kind: 'login', outcomeDescription: 'API token accepted', user: tokenUser(event.token, event.remote), authenticator: self }))
      return
    }
    if (!due(`refused\u0000${event.remote ?? ''}`, REFUSED_WINDOW_MS)) return
    const who = networkUser('unauthenticated', event.remote)
    audit.emit(securityAlertEvent({
      time: Date.now(), source, outcome: OUTCOME.minorFailure, outcomeDescription: 'HTTP request with an unknown or revoked bearer token refused',
      types: [EVENT_TYPE.nodeAuthentication], reporter: self, performers: [who], subjects: [{ kind: 'node', id: who.networkAccessPointId ?? 'unknown' }]
    }))
  }
}

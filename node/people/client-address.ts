/**
 * The network a client address stands for, as sign-in throttling and session binding see it.
 *
 * - IPv4, and IPv4 mapped into IPv6 (`::ffff:10.0.0.7`, what a dual-stack listener reports),
 *   are the same thing: the plain dotted quad.
 * - IPv6 is cut to its /64. One subscriber is handed a whole /64 and rotates privacy addresses
 *   inside it (RFC 8981), so a per-address limit on full IPv6 addresses is worth nothing (an
 *   attacker has 2^64 of them) and a session bound to one full address would die every time
 *   the browser picked a new temporary address.
 * - Anything else (a unix socket path, 'unknown', a test's label) is kept as is, bounded.
 */
import { isIPv4, isIPv6 } from 'node:net'

const MAX_LABEL = 100

export function networkOf (address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  if (isIPv4(bare)) return bare
  const noZone = bare.split('%')[0]!
  if (!isIPv6(noZone)) return address.slice(0, MAX_LABEL)
  const groups = expandIPv6(noZone)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  }
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return '::1'
  return groups.slice(0, 4).map((g) => g.toString(16)).join(':') + '::/64'
}

/** The eight 16-bit groups of a valid IPv6 address (node:net has checked it). */
function expandIPv6 (address: string): number[] {
  let text = address.toLowerCase()
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16)
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (part: string): number[] => part === '' ? [] : part.split(':').map((g) => parseInt(g, 16))
  const left = parse(head)
  if (tail === undefined) return left
  const right = parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

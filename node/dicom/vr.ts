/** Value representations (PS3.5 §6.2) and which of them use the 4-byte length form in explicit VR encodings. */

const ALL = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV'
])
const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

export function isKnownVr (vr: string): boolean { return ALL.has(vr) }
export function hasLongLength (vr: string): boolean { return LONG.has(vr) }

/** Two bytes as a VR string, or a printable description of what was there instead. */
export function readVr (bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!)
}

export function printable (text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/[^\x20-\x7e]/g, '?')
}

/**
 * Levels, roles and scopes of membership (docs/protocol.md "Members and permissions"). Levels are
 * ordered relay < read < write < admin; a scope is the whole org or one study.
 */
import { isStudyId, type StudyId } from '../study-id.ts'

export type Level = 'relay' | 'read' | 'write' | 'admin'
export type Role = 'site' | 'backup' | 'specialist'
export type Scope = 'org' | StudyId

export const LEVELS: readonly Level[] = ['relay', 'read', 'write', 'admin']
export const ROLES: readonly Role[] = ['site', 'backup', 'specialist']

export function isLevel (value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value)
}

export function isRole (value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

export function isScope (value: unknown): value is Scope {
  return value === 'org' || isStudyId(value)
}

/** 0 (relay) … 3 (admin); −1 for "no level". */
export function rank (level: Level | null | undefined): number {
  return level === null || level === undefined ? -1 : LEVELS.indexOf(level)
}

export function maxLevel (a: Level | null, b: Level | null): Level | null {
  return rank(a) >= rank(b) ? a : b
}

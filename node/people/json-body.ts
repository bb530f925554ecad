/**
 * The JSON body of a people route: `Content-Type: application/json` (which a cross-site HTML form
 * cannot send, so a sign-in cannot be forged from another site either), at most 64 KiB however
 * it is sent (counted while reading, so a body without Content-Length cannot run the node out of
 * memory), an object at the top, and each field read with its type and length checked.
 */
import type { Context } from 'hono'
import { RequestError } from '../dicomweb/http-errors.ts'

export const MAX_JSON_BODY = 64 * 1024

export type JsonObject = Readonly<Record<string, unknown>>

export async function jsonBody (c: Context): Promise<JsonObject> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new RequestError('UNSUPPORTED_MEDIA_TYPE', `expected a JSON body (Content-Type: application/json), got ${type === '' ? 'no Content-Type' : `"${type.slice(0, 60)}"`}`)
  const length = Number(c.req.header('content-length') ?? '0')
  if (length > MAX_JSON_BODY) throw new RequestError('TOO_LARGE', `the body is ${length} bytes; at most ${MAX_JSON_BODY}`)
  const body = c.req.raw.body
  const chunks: Uint8Array[] = []
  let size = 0
  if (body !== null) {
    const reader = body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > MAX_JSON_BODY) { await reader.cancel().catch(() => undefined); throw new RequestError('TOO_LARGE', `the body is over ${MAX_JSON_BODY} bytes`) }
      chunks.push(value)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw new RequestError('BAD_REQUEST', `the body is not JSON: ${(error as Error).message.slice(0, 120)}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RequestError('BAD_REQUEST', 'the body must be a JSON object')
  return value as JsonObject
}

/** A text field: present (unless optional), a string, at most `max` characters. */
export function textOf (body: JsonObject, key: string, max: number, optional?: false): string
export function textOf (body: JsonObject, key: string, max: number, optional: true): string | undefined
export function textOf (body: JsonObject, key: string, max: number, optional = false): string | undefined {
  const v = body[key]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw new RequestError('BAD_REQUEST', `"${key}" is required`)
  }
  if (typeof v !== 'string') throw new RequestError('BAD_REQUEST', `"${key}" must be text`)
  if (v.length > max) throw new RequestError('BAD_REQUEST', `"${key}" is ${v.length} characters long; at most ${max}`)
  return v
}

export function booleanOf (body: JsonObject, key: string): boolean | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new RequestError('BAD_REQUEST', `"${key}" must be true or false`)
  return v
}

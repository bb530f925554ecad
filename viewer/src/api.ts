/**
 * The node's JSON API as the viewer uses it: same origin, the session cookie (HttpOnly, set by
 * the node), and the CSRF token the sign-in answers returned, sent as X-CSRF-Token on every
 * state-changing request. A refusal becomes an ApiError carrying the node's `error` code and
 * `message`, which the pages show as they are.
 */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor (status: number, code: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

let csrf: string | undefined

/** Dispatched on window when a request is refused 401 outside sign-in: the session has ended. */
export const SESSION_ENDED = 'peerpacs:session-ended'

export function sessionEnded (): void { window.dispatchEvent(new Event(SESSION_ENDED)) }

/** Remembers the CSRF token of the current session (from a sign-in answer or GET /api/session). */
export function setCsrf (token: string | undefined): void { csrf = token }

async function errorOf (response: Response): Promise<ApiError> {
  let code = `http-${response.status}`
  let message = `the node answered ${response.status} ${response.statusText}`
  try {
    const body = await response.json() as { error?: unknown, message?: unknown }
    if (typeof body.error === 'string') code = body.error
    if (typeof body.message === 'string') message = body.message
  } catch {}
  const retry = response.headers.get('Retry-After')
  if (response.status === 429 && retry !== null && !message.includes('try again')) message += ` (try again in ${retry} s)`
  return new ApiError(response.status, code, message)
}

/** Calls the API; JSON in and out. */
export async function api<T = unknown> (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (method !== 'GET' && csrf !== undefined) headers['X-CSRF-Token'] = csrf
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  if (response.status === 401 && !path.startsWith('/api/session')) sessionEnded()
  if (!response.ok) throw await errorOf(response)
  return await response.json() as T
}

/** A DICOMweb GET answered with DICOM JSON (QIDO-RS, WADO-RS metadata). */
export async function dicomJson<T = unknown> (path: string): Promise<{ body: T, headers: Headers }> {
  const response = await fetch(path, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' })
  if (response.status === 401) sessionEnded()
  if (!response.ok) throw await errorOf(response)
  const text = await response.text()
  return { body: (text === '' ? [] : JSON.parse(text)) as T, headers: response.headers }
}

/** What an error says to a person. */
export function messageOf (error: unknown): string {
  if (error instanceof ApiError) return error.message
  if (error instanceof Error) return error.message
  return String(error)
}

/**
 * Just enough XMLHttpRequest, over Node's fetch, for dicomweb-client (which was written for
 * browsers) to run in the test process: open, setRequestHeader, responseType arraybuffer/json/
 * text, send, readyState 4 with status, response and response headers. Written here rather than
 * added as a dependency (xhr2 and friends) because the client uses nothing more, and fetch is
 * what the Node it runs on ships. installXhr() puts it on globalThis for the duration of a suite.
 */

type Handler = (() => void) | null

export class FetchXhr {
  readyState = 0
  status = 0
  statusText = ''
  response: unknown = null
  responseType: '' | 'arraybuffer' | 'json' | 'text' = ''
  withCredentials = false
  onreadystatechange: Handler = null
  onloadstart: Handler = null
  onloadend: Handler = null
  onprogress: Handler = null
  onerror: Handler = null
  #method = 'GET'
  #url = ''
  #headers: Record<string, string> = {}
  #responseHeaders = new Headers()

  open (method: string, url: string): void {
    this.#method = method.toUpperCase()
    this.#url = url
    this.readyState = 1
  }

  setRequestHeader (name: string, value: string): void { this.#headers[name] = value }

  getResponseHeader (name: string): string | null { return this.#responseHeaders.get(name) }

  getAllResponseHeaders (): string {
    return [...this.#responseHeaders].map(([k, v]) => `${k}: ${v}\r\n`).join('')
  }

  send (body?: ArrayBuffer | Uint8Array | string | null): void {
    this.onloadstart?.()
    const init: RequestInit = { method: this.#method, headers: this.#headers }
    if (body !== undefined && body !== null) init.body = body instanceof ArrayBuffer ? new Uint8Array(body) : body
    fetch(this.#url, init).then(async (res) => {
      this.status = res.status
      this.statusText = res.statusText
      this.#responseHeaders = res.headers
      const bytes = await res.arrayBuffer()
      if (this.responseType === 'arraybuffer') this.response = bytes
      else {
        const text = new TextDecoder().decode(bytes)
        if (this.responseType === 'json') {
          try { this.response = text === '' ? null : JSON.parse(text) } catch { this.response = null }
        } else this.response = text
      }
    }, () => {
      this.status = 0
      this.onerror?.()
    }).finally(() => {
      this.readyState = 4
      this.onreadystatechange?.()
      this.onloadend?.()
    })
  }
}

export function installXhr (): () => void {
  const g = globalThis as Record<string, unknown>
  const before = g.XMLHttpRequest
  g.XMLHttpRequest = FetchXhr
  return () => { g.XMLHttpRequest = before }
}

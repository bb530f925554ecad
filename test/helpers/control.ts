/** Speaks to a running node's control socket (daemon/control-socket.ts) as the CLI does. */
import { request } from 'node:http'

/** POSTs `body` to /run on the socket and answers with the whole response. */
export async function controlPost (socket: string, body: string): Promise<Response> {
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path: '/run', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })) })
      res.on('error', reject)
    })
    req.once('error', reject)
    req.end(body)
  })
}

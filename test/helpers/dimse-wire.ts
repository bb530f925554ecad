/**
 * A TCP relay between a DICOM tool and the node that records the DIMSE messages the tool sends:
 * each P-DATA-TF PDV is reassembled into its message's command set and dataset. dcmtk's tools
 * re-serialize datasets before sending them, so "what was sent" is what this relay saw on the
 * wire, not the file the tool was given.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

export interface WireMessage { readonly pcId: number, readonly command: Buffer, readonly dataset: Buffer | undefined }

/** Parses one direction of an association into its DIMSE messages. */
export class PduReader {
  readonly messages: WireMessage[] = []
  #buffer = Buffer.alloc(0)
  #command: Buffer[] = []
  #dataset: Buffer[] = []
  #commandDone: Buffer | undefined
  #pcId = 0

  push (chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    while (this.#buffer.length >= 6) {
      const length = this.#buffer.readUInt32BE(2)
      if (this.#buffer.length < 6 + length) return
      const type = this.#buffer[0]
      const body = this.#buffer.subarray(6, 6 + length)
      this.#buffer = this.#buffer.subarray(6 + length)
      if (type === 0x04) this.#pdata(body)
    }
  }

  #pdata (body: Buffer): void {
    let offset = 0
    while (offset + 6 <= body.length) {
      const itemLength = body.readUInt32BE(offset)
      const pcId = body[offset + 4]!
      const header = body[offset + 5]!
      const value = body.subarray(offset + 6, offset + 4 + itemLength)
      offset += 4 + itemLength
      this.#pcId = pcId
      if ((header & 1) === 1) {
        this.#command.push(Buffer.from(value))
        if ((header & 2) === 2) {
          const command = Buffer.concat(this.#command)
          this.#command = []
          // Command Data Set Type (0000,0800) 0x0101: no dataset follows.
          if (hasDataset(command)) this.#commandDone = command
          else this.messages.push({ pcId, command, dataset: undefined })
        }
      } else {
        this.#dataset.push(Buffer.from(value))
        if ((header & 2) === 2 && this.#commandDone !== undefined) {
          this.messages.push({ pcId: this.#pcId, command: this.#commandDone, dataset: Buffer.concat(this.#dataset) })
          this.#dataset = []
          this.#commandDone = undefined
        }
      }
    }
  }
}

/** Walks an implicit VR LE command set for (0000,0800). */
export function commandElement (command: Buffer, element: number): Buffer | undefined {
  let offset = 0
  while (offset + 8 <= command.length) {
    const group = command.readUInt16LE(offset)
    const el = command.readUInt16LE(offset + 2)
    const length = command.readUInt32LE(offset + 4)
    if (group === 0 && el === element) return command.subarray(offset + 8, offset + 8 + length)
    offset += 8 + length
  }
  return undefined
}

function hasDataset (command: Buffer): boolean {
  const v = commandElement(command, 0x0800)
  return v !== undefined && v.readUInt16LE(0) !== 0x0101
}

export interface Relay { readonly port: number, readonly fromClient: PduReader[], readonly fromServer: PduReader[] }

/** Listens on an ephemeral port and relays every connection to `targetPort`, recording both directions. */
export async function startRelay (t: Pick<TestContext, 'after'>, targetPort: number): Promise<Relay> {
  const fromClient: PduReader[] = []
  const fromServer: PduReader[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    const up = new PduReader()
    const down = new PduReader()
    fromClient.push(up)
    fromServer.push(down)
    client.on('data', (d: Buffer) => { up.push(d); upstream.write(d) })
    upstream.on('data', (d: Buffer) => { down.push(d); client.write(d) })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => { upstream.destroy(); sockets.delete(client) })
    upstream.on('close', () => { client.destroy(); sockets.delete(upstream) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('relay has no port')
  return { port: address.port, fromClient, fromServer }
}

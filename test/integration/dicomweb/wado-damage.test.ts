/**
 * A stored instance damaged at rest while WADO-RS streams it: the response is aborted (the client
 * sees the connection end before the closing delimiter), never a cut-short part presented as
 * whole; metadata of the damaged instance is a 500 saying to run fsck; the server keeps answering.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { describe, test } from 'node:test'
import { listFiles } from '../../helpers/files.ts'
import { multipartBody, startDicomweb } from '../../helpers/dicomweb-server.ts'
import { syntheticStudy } from '../../synthetic/study.ts'

describe('WADO-RS over a damaged instance', () => {
  test('the streamed response is aborted, not completed', async (t) => {
    const server = await startDicomweb(t, { store: 'data-dir' })
    const study = syntheticStudy({ seed: 81, profile: 'ct', slices: 3 })
    const { body, contentType } = multipartBody(study.map((i) => i.bytes))
    assert.equal((await fetch(`${server.root}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body })).status, 200)
    const victim = (await server.pacs.findInstance(study[1]!.sopInstanceUid))!
    const files = await listFiles(server.archive.layout.blobsDir)
    const file = files.find((f) => basename(f) === String(victim.blob))
    assert.ok(file, 'the blob file of the instance')
    const bytes = await readFile(file)
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0x01
    await writeFile(file, bytes)

    const r = await fetch(`${server.root}/studies/${victim.studyInstanceUid}`)
    assert.equal(r.status, 200, 'the first instance was good, so the response had begun')
    await assert.rejects(r.arrayBuffer(), 'the body ends in an error, not with the closing delimiter')

    const one = await fetch(`${server.root}/studies/${victim.studyInstanceUid}/series/${victim.seriesInstanceUid}/instances/${victim.sopInstanceUid}/metadata`)
    assert.equal(one.status, 500)
    assert.match(((await one.json()) as { message: string }).message, /fsck/)
    assert.ok(server.logs.some((l) => l.includes('wado.stream.aborted')))

    const good = study[0]!
    const ok = await fetch(`${server.root}/studies/${good.studyInstanceUid}/series/${good.seriesInstanceUid}/instances/${good.sopInstanceUid}`)
    assert.equal(ok.status, 200)
    assert.ok(Buffer.from(await ok.arrayBuffer()).includes(Buffer.from(good.bytes)))
  })
})

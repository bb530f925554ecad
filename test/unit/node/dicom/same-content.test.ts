/**
 * Two copies of one instance whose bytes differ only by encoding — the transfer syntax dcmtk
 * converts to (implicit/explicit VR, big/little endian, deflated) or sequences and items
 * rewritten with defined lengths — hold the same content; a changed value, pixel, or another
 * instance does not. The copies are made by dcmtk's dcmconv and dcmodify, as a sender would.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sameInstanceContent } from '../../../../node/dicom/same-content.ts'
import { dcmtk } from '../../../helpers/dcmtk.ts'
import { syntheticStudy, KNOWN_PATIENTS } from '../../../synthetic/study.ts'

test('re-encoded copies are the same content; changed ones are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerpacs-same-content-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const instances = syntheticStudy({ seed: 3, patient: KNOWN_PATIENTS[1], profile: 'mixed', folder: 's' })
  const plain = instances.filter((i) => ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'].includes(i.transferSyntaxUid))
  assert.ok(plain.length >= 3)
  let compared = 0
  for (const [n, instance] of plain.entries()) {
    const original = join(dir, `${n}.dcm`)
    await writeFile(original, instance.bytes)
    for (const [label, args] of [['implicit', ['+ti']], ['explicit', ['+te']], ['big endian', ['+tb']], ['deflated', ['+td']], ['defined lengths', ['+e']], ['undefined lengths', ['-e']]] as const) {
      const copy = join(dir, `${n}-${label}.dcm`)
      const run = dcmtk('dcmconv', [...args, original, copy])
      assert.equal(run.status, 0, run.stderr)
      const bytes = new Uint8Array(await readFile(copy))
      assert.ok(sameInstanceContent(instance.bytes, bytes), `${instance.transferSyntaxUid} as ${label}`)
      assert.ok(sameInstanceContent(bytes, instance.bytes), `${label} to ${instance.transferSyntaxUid}`)
      compared++
    }
    const changed = join(dir, `${n}-changed.dcm`)
    await writeFile(changed, instance.bytes)
    assert.equal(dcmtk('dcmodify', ['-nb', '-i', 'StudyDescription=CHANGED', changed]).status, 0)
    assert.ok(!sameInstanceContent(instance.bytes, new Uint8Array(await readFile(changed))), 'a changed value')
    const pixel = instance.bytes.slice()
    pixel[pixel.length - 2]! ^= 0x01
    assert.ok(!sameInstanceContent(instance.bytes, pixel), 'a changed pixel')
  }
  assert.ok(!sameInstanceContent(plain[0]!.bytes, plain[1]!.bytes), 'another instance')
  assert.ok(!sameInstanceContent(plain[0]!.bytes, new Uint8Array([1, 2, 3])), 'not DICOM')
  assert.equal(compared, plain.length * 6)
})

/**
 * Invariant 7 at the import entry point: malformed files get a precise per-file reason, nothing
 * of them is stored, and the import goes on with the good files. Also the CLI's own bad input:
 * unknown commands and options, missing arguments, a data dir that is not one.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'
import { runCli, show } from '../helpers/cli.ts'
import { writeStudies } from '../helpers/dataset.ts'
import { listFiles, tempDir } from '../helpers/files.ts'
import { writePart10, type DicomElement } from '../synthetic/part10-writer.ts'
import { KNOWN_PATIENTS } from '../synthetic/study.ts'

const EXPLICIT_LE = '1.2.840.10008.1.2.1'
const CT = '1.2.840.10008.5.1.4.1.1.2'

function minimal (elements: DicomElement[], sop = '2.25.4242'): Uint8Array {
  return writePart10({ sopClassUid: CT, sopInstanceUid: sop, transferSyntaxUid: EXPLICIT_LE, elements })
}

/** Offset of an explicit-VR-LE element header in `bytes`. */
function findElement (bytes: Uint8Array, group: number, element: number, vr: string): number {
  const needle = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, vr.charCodeAt(0), vr.charCodeAt(1)])
  const at = Buffer.from(bytes).indexOf(needle, 132)
  assert.ok(at > 0, `element (${group.toString(16)},${element.toString(16)}) found`)
  return at
}

it('bad files are skipped or rejected with a reason; nothing of them is stored; the good ones import', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const good = await writeStudies(join(root, 'in', 'good'), [{ seed: 41, patient: KNOWN_PATIENTS[3]!, profile: 'mixed' }])
  const source = good.instances.find((i) => i.transferSyntaxUid === EXPLICIT_LE && i.pixelPatternVerbatim)!
  const bad = join(root, 'in', 'bad')
  await mkdir(bad, { recursive: true })
  const expect: Array<[string, 'skipped' | 'rejected', RegExp]> = []
  const add = async (name: string, bytes: Uint8Array | string, status: 'skipped' | 'rejected', reason: RegExp): Promise<void> => {
    await writeFile(join(bad, name), bytes)
    expect.push([name, status, reason])
  }

  await add('notes.txt', 'This is a referral letter, not an image.\n'.repeat(10), 'skipped', /no "DICM" marker at byte 128/)
  await add('empty.dcm', new Uint8Array(0), 'skipped', /too short to be DICOM Part 10/)
  const preamble = new Uint8Array(source.bytes)
  preamble[131] = 0x4e // "DICN"
  await add('broken-preamble.dcm', preamble, 'skipped', /no "DICM" marker/)
  await add('cut-in-meta.dcm', source.bytes.subarray(0, 190), 'rejected', /reaches byte \d+, past the end of the file \(190 bytes\)/)
  await add('cut-in-header.dcm', source.bytes.subarray(0, 603), 'rejected', /(claims \d+ bytes but|file) ends (at byte 603|inside an element header)/)
  await add('cut-in-pixels.dcm', source.bytes.subarray(0, source.bytes.length - 1000), 'rejected', /\(7FE0,0010\) at byte \d+ claims \d+ bytes but the file ends/)
  const absurd = new Uint8Array(source.bytes)
  const pn = findElement(absurd, 0x0010, 0x0010, 'PN')
  absurd[pn + 6] = 0xf0; absurd[pn + 7] = 0xff // PatientName claims 65520 bytes
  await add('absurd-length.dcm', absurd, 'rejected', /\(0010,0010\) at byte \d+ claims 65520 bytes/)
  const hugeMeta = new Uint8Array(source.bytes)
  hugeMeta.set([0xf0, 0xff, 0xff, 0x7f], 140) // (0002,0000) group length value
  await add('absurd-group-length.dcm', hugeMeta, 'rejected', /group length \(0002,0000\) reaches byte \d+, past the end of the file/)
  const badVr = new Uint8Array(source.bytes)
  const vrAt = findElement(badVr, 0x0008, 0x0060, 'CS')
  badVr[vrAt + 4] = 0x7a; badVr[vrAt + 5] = 0x7a
  await add('bad-vr.dcm', badVr, 'rejected', /\(0008,0060\) at byte \d+ has an invalid VR "zz"/)
  const trailing = new Uint8Array(source.bytes.length + 5)
  trailing.set(source.bytes)
  await add('trailing-garbage.dcm', trailing, 'rejected', /file ends inside an element header/)
  const zeros = new Uint8Array(source.bytes.length + 8)
  zeros.set(source.bytes)
  await add('trailing-zeros.dcm', zeros, 'rejected', /element \(0000,0000\) at byte \d+ cannot occur in a dataset/)
  // No SOP Instance UID in the dataset nor in the file meta (one in the meta alone stands in, as
  // dcmtk reads it: test/integration/interop-corpus.test.ts).
  await add('no-sop-uid.dcm', minimal([
    { tag: 0x00080016, vr: 'UI', value: CT },
    { tag: 0x0020000d, vr: 'UI', value: '2.25.1' },
    { tag: 0x0020000e, vr: 'UI', value: '2.25.2' }
  ], ''), 'rejected', /missing SOPInstanceUID \(0008,0018\)/)
  await add('bad-uid.dcm', minimal([
    { tag: 0x00080016, vr: 'UI', value: CT },
    { tag: 0x00080018, vr: 'UI', value: '1.2.ABC.4' },
    { tag: 0x0020000d, vr: 'UI', value: '2.25.1' },
    { tag: 0x0020000e, vr: 'UI', value: '2.25.2' }
  ], '1.2.ABC.4'), 'rejected', /SOPInstanceUID \(0008,0018\) is not a valid UID/)
  await add('DICOMDIR', writePart10({ sopClassUid: '1.2.840.10008.1.3.10', sopInstanceUid: '2.25.77', transferSyntaxUid: EXPLICIT_LE, elements: [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.1.3.10' }, { tag: 0x00080018, vr: 'UI', value: '2.25.77' }
  ] }), 'skipped', /a DICOMDIR \(the index of a DICOM medium\), not an instance/)
  execFileSync('mkfifo', [join(bad, 'a-fifo')])
  await symlink('..', join(bad, 'loop-to-parent')) // a folder link loop: visited once, not forever
  expect.push(['a-fifo', 'rejected', /not a regular file/])

  assert.equal((await runCli(['init', '--data', data])).code, 0)
  const missing = join(root, 'does-not-exist')
  const r = await runCli(['import', '--data', data, '--json', good.dir, bad, missing])
  assert.equal(r.code, 1, show(r))
  const files = r.records.filter((x) => x.type === 'file')
  for (const [name, status, reason] of expect) {
    const f = files.find((x) => x.path === join(bad, name))
    assert.ok(f, `${name} is reported`)
    assert.equal(f.status, status, `${name}: ${f.reason}`)
    assert.match(f.reason, reason, name)
  }
  const gone = files.find((x) => x.path === missing)!
  assert.equal(gone.status, 'rejected')
  assert.match(gone.reason, /cannot open: ENOENT/)
  assert.equal(files.filter((x) => x.status === 'imported').length, good.instances.length)
  assert.equal(files.filter((x) => x.status === 'duplicate').length, 0, 'no file was reached twice through the link loop')
  assert.ok(files.every((x) => !x.path.includes('loop-to-parent/loop-to-parent')), 'the link loop was not followed twice')
  const summary = r.records.find((x) => x.type === 'summary')!
  assert.equal(summary.imported, good.instances.length)
  const skipped = expect.filter(([, status]) => status === 'skipped').length
  assert.equal(summary.skipped, skipped)
  assert.equal(summary.rejected, expect.length - skipped + 1)

  // Human output names each bad file with its reason too.
  const human = await runCli(['import', '--data', data, bad])
  assert.equal(human.code, 1)
  assert.match(human.stdout, /rejected {2}.*absurd-length\.dcm: element \(0010,0010\)/)
  assert.match(human.stdout, /skipped {3}.*notes\.txt: not a DICOM Part 10 file/)

  // Nothing of the bad files was stored.
  const blobs = (await listFiles(join(data, 'blobs'))).filter((f) => !f.includes('/blobs/tmp/'))
  assert.equal(blobs.length, good.instances.length)
  const fsck = await runCli(['fsck', '--data', data, '--json'])
  assert.equal(fsck.code, 0, show(fsck))
  assert.equal(fsck.records.find((x) => x.type === 'summary')!.warnings, 0)
  const studies = await runCli(['studies', '--data', data, '--json'])
  assert.deepEqual(studies.records.filter((x) => x.type === 'study').map((s) => s.instances), [good.instances.length])
})

it('the command line itself: bad commands, options and data dirs get a clear message and exit code', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const cases: Array<[string[], number, RegExp]> = [
    [[], 2, /Usage: peerpacs COMMAND/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['import', '--data', data], 2, /missing PATH\.\.\./],
    [['import', '--data', data, '--bogus', 'x'], 2, /Unknown option '--bogus'/],
    [['import', '--data', data, '--concurrency', 'lots', 'x'], 2, /--concurrency must be an integer/],
    [['export', '--data', data, 'only-one'], 2, /missing STUDY DIR/],
    [['studies', '--data', data, 'extra'], 2, /unexpected argument "extra"/],
    [['studies', '--data', data], 3, /no peerpacs data dir at .*hint: create one with `peerpacs init/s],
    [['studies', '--data', data, '--json'], 3, /"code":"NOT_INITIALISED"/],
    [['init', '--data', data, '--passphrase-file', join(root, 'nope')], 4, /cannot read passphrase file/]
  ]
  for (const [args, code, pattern] of cases) {
    const r = await runCli(args)
    assert.equal(r.code, code, `peerpacs ${args.join(' ')}\n${show(r)}`)
    assert.match(r.stdout + r.stderr, pattern, `peerpacs ${args.join(' ')}`)
  }
  await mkdir(join(root, 'full'))
  await writeFile(join(root, 'full', 'something'), 'x')
  const notEmpty = await runCli(['init', '--data', join(root, 'full')])
  assert.equal(notEmpty.code, 3)
  assert.match(notEmpty.stderr, /is not empty and is not a peerpacs data dir/)

  for (const command of ['init', 'import', 'studies', 'export', 'fsck']) {
    const help = await runCli([command, '--help'])
    assert.equal(help.code, 0, show(help))
    assert.match(help.stdout, new RegExp(`^Usage: peerpacs ${command} \\[options\\]`))
    assert.match(help.stdout, /--data DIR/)
    assert.match(help.stdout, /Exit codes:/)
  }
})

it('data dir and export target mistakes: a file as --data, a file as the export folder, importing the data dir itself', async (t) => {
  const root = await tempDir(t)
  const data = join(root, 'data')
  const aFile = join(root, 'a-file')
  await writeFile(aFile, 'not a folder')
  const asData = await runCli(['studies', '--data', aFile])
  assert.equal(asData.code, 3, show(asData))
  assert.match(asData.stderr, /is a file, not a peerpacs data dir/)
  const initOnFile = await runCli(['init', '--data', aFile])
  assert.equal(initOnFile.code, 3, show(initOnFile))

  const good = await writeStudies(join(root, 'in'), [{ seed: 43, patient: KNOWN_PATIENTS[0]!, profile: 'mixed' }])
  assert.equal((await runCli(['init', '--data', data])).code, 0)
  assert.equal((await runCli(['import', '--data', data, good.dir])).code, 0)
  const [uid] = good.studies.keys()
  const intoFile = await runCli(['export', '--data', data, uid!, aFile])
  assert.equal(intoFile.code, 2, show(intoFile))
  assert.match(intoFile.stderr, /exists and is not a folder/)

  // `peerpacs import .` from the folder that holds the data dir: the data dir is passed over.
  const r = await runCli(['import', '--data', data, '--json', root])
  assert.equal(r.code, 0, show(r))
  const dataEntry = r.records.find((x) => x.type === 'file' && x.path === data)!
  assert.equal(dataEntry.status, 'skipped')
  assert.match(dataEntry.reason, /the peerpacs data dir itself/)
  assert.ok(!r.records.some((x) => x.type === 'file' && x.path.startsWith(data + '/')), 'nothing inside the data dir was read')
})

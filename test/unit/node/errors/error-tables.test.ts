/**
 * One table per surface, each complete: every error code has a row in the CLI exit codes, the
 * DIMSE statuses and the HTTP answers, and no table has a row for a code that does not exist.
 * The type checker proves this already (each table is a Record<ErrorCode, ...>); this test also
 * proves the list itself is whole, by finding every code literal raised in node/ and protocol/
 * sources and asking that it is listed. A few rows are pinned: they are what peers, clients and
 * scripts see, and this restructuring changed none of them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerpacsError, PROTOCOL_ERROR_CODES, type ErrorCode } from '../../../../protocol/errors.ts'
import { ERROR_CODES, errorCodeOf, isErrorCode, NODE_ERROR_CODES } from '../../../../node/errors.ts'
import { EXIT, EXIT_BY_CODE, exitCodeFor } from '../../../../node/cli/exit-codes.ts'
import { DIMSE_STATUS_BY_CODE } from '../../../../node/dimse/error-statuses.ts'
import { STATUS } from '../../../../node/dimse/statuses.ts'
import { outcomeOfError, StoreRefusedError } from '../../../../node/dimse/store.ts'
import { HTTP_BY_CODE, httpAnswerOf, problemResponse } from '../../../../node/dicomweb/http-errors.ts'
import { InstanceConflictError } from '../../../../node/archive/errors.ts'
import { InvalidDicomError } from '../../../../node/dicom/errors.ts'
import { DecoderBusyError, UnsupportedPixelDataError } from '../../../../node/imaging/errors.ts'

const root = join(import.meta.dirname, '../../../..')

const TABLES: ReadonlyArray<[string, Record<string, unknown>]> = [
  ['EXIT_BY_CODE (node/cli/exit-codes.ts)', EXIT_BY_CODE],
  ['DIMSE_STATUS_BY_CODE (node/dimse/error-statuses.ts)', DIMSE_STATUS_BY_CODE],
  ['HTTP_BY_CODE (node/dicomweb/http-errors.ts)', HTTP_BY_CODE]
]

test('the code list is protocol\'s then node\'s, without repeats', () => {
  assert.deepEqual(ERROR_CODES, [...PROTOCOL_ERROR_CODES, ...NODE_ERROR_CODES])
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length, 'a code is listed twice')
  for (const code of ERROR_CODES) assert.match(code, /^[A-Z][A-Z0-9_]*$/)
})

test('every table has exactly one row per code', () => {
  for (const [name, table] of TABLES) {
    const missing = ERROR_CODES.filter((code) => !Object.hasOwn(table, code))
    const extra = Object.keys(table).filter((code) => !isErrorCode(code))
    assert.deepEqual(missing, [], `${name} has no row for ${missing.join(', ')}`)
    assert.deepEqual(extra, [], `${name} has rows for codes that do not exist: ${extra.join(', ')}`)
  }
})

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) out.push(join(entry.parentPath, entry.name))
  }
  return out
}

// `static readonly code = 'X'`, `super('X', ...)`, `new SomeError('X', ...)` (DataDirError,
// RestoreError, RequestError), and an enroll refusal `refuse('X', ...)`.
const RAISED = [
  /static readonly code = '([A-Z_]+)'/g,
  /super\('([A-Z_]+)'/g,
  /new [A-Za-z]*Error\('([A-Z][A-Z_]+)'/g,
  /refuse\('([A-Z_]+)'/g
]

test('every code raised in node/ and protocol/ is in the list', async () => {
  const raised = new Map<string, string>()
  for (const file of [...await sources(join(root, 'node')), ...await sources(join(root, 'protocol'))]) {
    const text = await readFile(file, 'utf8')
    for (const pattern of RAISED) {
      for (const m of text.matchAll(pattern)) raised.set(m[1]!, file.slice(root.length + 1))
    }
  }
  // The scan must find the codes it is about, or it proves nothing.
  for (const known of ['INVALID_ARGUMENT', 'DATA_DIR_FORMAT', 'RESTORE_SYNC', 'BAD_REQUEST', 'ENROLL_NOT_INVITE', 'STUDY_MISMATCH', 'LOG_NOT_MEMBER']) {
    assert.ok(raised.has(known), `the scan did not find ${known}`)
  }
  assert.ok(raised.size >= 70, `only ${raised.size} codes found`)
  const unlisted = [...raised].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`)
  assert.deepEqual(unlisted, [], 'codes raised but not in node/errors.ts or protocol/errors.ts')
})

test('exit codes are as before: the named ones, and INTERNAL for the rest and for unknown text', () => {
  assert.equal(exitCodeFor('USAGE'), EXIT.USAGE)
  assert.equal(exitCodeFor('DATA_DIR_BUSY'), EXIT.DATA_DIR)
  assert.equal(exitCodeFor('WRONG_PASSPHRASE'), EXIT.KEYS)
  assert.equal(exitCodeFor('STUDY_NOT_FOUND'), EXIT.NOT_FOUND)
  assert.equal(exitCodeFor('AUTH_FAILED'), EXIT.PROBLEMS)
  assert.equal(exitCodeFor('LOG_WRITE'), EXIT.INTERNAL)
  assert.equal(exitCodeFor('NOT_A_CODE'), EXIT.INTERNAL)
  assert.equal(exitCodeFor('toString'), EXIT.INTERNAL, 'an inherited property is not a row')
  assert.equal(exitCodeFor(undefined), EXIT.INTERNAL)
})

test('DIMSE statuses (and STOW FailureReasons) come from the table', () => {
  assert.equal(outcomeOfError(new InstanceConflictError('other bytes')).status, STATUS.duplicateInstance)
  const malformed = outcomeOfError(new InvalidDicomError('bad length at 1.2.3.4'))
  assert.equal(malformed.status, STATUS.cannotUnderstand)
  assert.equal(malformed.comment, 'the dataset is malformed', 'a UID in the message stays out of the comment')
  assert.equal(outcomeOfError(new PeerpacsError('INDEX_DAMAGED', 'x')).comment, 'not stored: INDEX_DAMAGED')
  assert.equal(outcomeOfError(new StoreRefusedError(STATUS.notAuthorized, 'no')).status, STATUS.notAuthorized, 'a refusal carries its status')
  assert.equal(outcomeOfError(new Error('plain')).status, STATUS.processingFailure)
  assert.equal(DIMSE_STATUS_BY_CODE.STUDY_MISMATCH, 0xa900)
  assert.equal(DIMSE_STATUS_BY_CODE.MULTIPART, 0xc000)
})

test('HTTP answers come from the table, and a 500 never shows the error\'s own text', async () => {
  assert.deepEqual(httpAnswerOf(new UnsupportedPixelDataError('12-bit')), { status: 406, error: 'not-acceptable' })
  assert.deepEqual(httpAnswerOf(new DecoderBusyError('queue full')), { status: 503, error: 'busy' })
  assert.equal(httpAnswerOf(new PeerpacsError('QUERY_KEY', 'bad key')).status, 400)
  assert.equal(httpAnswerOf(new Error('plain')).status, 500)
  const internal = problemResponse(new PeerpacsError('LOG_WRITE', '/secret/path failed'))
  assert.equal(internal.status, 500)
  assert.deepEqual(await internal.json(), { error: 'internal', message: 'the node failed to answer this request; see its log' })
  const damaged = await problemResponse(new PeerpacsError('INTEGRITY', 'hash of blob x')).json() as { message: string }
  assert.match(damaged.message, /peerpacs fsck/)
  for (const code of ERROR_CODES) {
    const row = HTTP_BY_CODE[code as ErrorCode]
    if (row.status >= 500 && row.error === 'internal') assert.ok(row.says !== undefined, `${code}: a 500 row must say its own message`)
  }
})

test('errorCodeOf: our codes pass, anything else is INTERNAL', () => {
  assert.equal(errorCodeOf(new InstanceConflictError('x')), 'INSTANCE_CONFLICT')
  assert.equal(errorCodeOf(Object.assign(new Error('disk'), { code: 'ENOSPC' })), 'INTERNAL')
  assert.equal(errorCodeOf(null), 'INTERNAL')
})

test('stored data that fails its AEAD check is answered like any other failed verification (the old check looked for a code that never existed)', () => {
  assert.deepEqual(HTTP_BY_CODE.AUTH_FAILED, HTTP_BY_CODE.INTEGRITY)
  assert.match(HTTP_BY_CODE.AUTH_FAILED.says ?? '', /failed verification.*peerpacs fsck/)
})

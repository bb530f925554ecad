/**
 * Reads one stored instance back as plaintext, checked twice over: every sealed block against
 * the blob's recorded hashes (keyless), every chunk by its AEAD tag, and the whole by the SHA-256
 * recorded at import. Any mismatch throws before the last piece is handed out, so a caller that
 * writes to a temporary file and renames only on success never publishes a damaged instance.
 */
import { StreamOpener } from '../../protocol/aead-stream.ts'
import { equalBytes } from '../../protocol/bytes.ts'
import { IntegrityError } from '../../protocol/errors.ts'
import { readVerified } from '../store/verified-read.ts'
import type { Archive, StudyContext } from './archive.ts'
import type { InstanceEntry } from './catalogue.ts'
import { decodeBlobRecord, keys } from './index-layout.ts'

export async function * readInstance (archive: Archive, study: StudyContext, entry: InstanceEntry): AsyncIterable<Uint8Array> {
  const recordBytes = await archive.kv.get(keys.blob(entry.blob))
  if (recordBytes === undefined) throw new IntegrityError(`blob ${entry.blob} of instance ${entry.attributes.sopInstanceUid} has no record in the index`)
  const digest = decodeBlobRecord(entry.blob, recordBytes)
  const opener = new StreamOpener({ dataKey: study.dataKey, provider: archive.provider })
  const hash = archive.provider.createSha256()
  let size = 0
  for await (const block of readVerified(archive.blobs, archive.provider, digest)) {
    for (const plain of opener.push(block)) {
      hash.update(plain)
      size += plain.length
      yield plain
    }
  }
  const last = opener.finish()
  hash.update(last)
  size += last.length
  if (size !== entry.attributes.size || !equalBytes(hash.digest(), entry.attributes.sha256)) {
    throw new IntegrityError(`instance ${entry.attributes.sopInstanceUid} decrypts to ${size} bytes that do not match the SHA-256 recorded at import`)
  }
  yield last
}

/**
 * A dataset that dcmjs-dimse sends as the exact bytes peerpacs stored. The library serializes a
 * request's dataset by calling getDenaturalizedDataset() in Network._sendPDataTF and splits the
 * result into PDVs; it transcodes first when getTransferSyntaxUid() differs from the accepted
 * syntax (Network._sendDimse). So the subclass returns the stored dataset bytes unchanged and
 * its stored transfer syntax, and callers only send it on a context accepted with that syntax
 * (one exception: the deflate pad byte below).
 */
import { parseFileMeta } from '../dicom/file-meta.ts'
import { InvalidDicomError } from '../dicom/errors.ts'
import { Dataset } from './library.ts'

const DEFLATED = '1.2.840.10008.1.2.1.99'

export class RawDataset extends Dataset {
  readonly bytes: Buffer
  readonly #transferSyntaxUid: string

  constructor (bytes: Uint8Array, transferSyntaxUid: string, sopClassUid: string, sopInstanceUid: string) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, transferSyntaxUid)
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#transferSyntaxUid = transferSyntaxUid
  }

  /** The dataset of a stored Part 10 file: everything after its file meta. */
  static fromPart10 (file: Uint8Array, sopClassUid: string, sopInstanceUid: string): RawDataset {
    const meta = parseFileMeta(file, file.length)
    if (meta === undefined) throw new InvalidDicomError('stored file has no complete file meta')
    return new RawDataset(file.subarray(meta.metaEnd), meta.transferSyntaxUid, sopClassUid, sopInstanceUid)
  }

  override getTransferSyntaxUid (): string { return this.#transferSyntaxUid }

  /**
   * The stored bytes. A deflated dataset of odd length (a file written without the pad) goes out
   * with the single trailing 00H PS3.5 A.5 requires of a deflated stream, which receivers need
   * (PDVs carry even lengths); inflating it gives the same dataset.
   */
  override getDenaturalizedDataset (): Buffer {
    if (this.#transferSyntaxUid === DEFLATED && this.bytes.length % 2 === 1) return Buffer.concat([this.bytes, Buffer.of(0)])
    return this.bytes
  }

  override toString (): string { return `RawDataset [${this.bytes.length} bytes]` }
}

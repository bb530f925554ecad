/**
 * Types for the codec packages, which ship none: only what peerpacs calls. The emscripten
 * modules are CommonJS factories (default export) that resolve to the module object.
 */
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  export interface FrameInfo { width: number, height: number, bitsPerSample: number, componentCount: number }
  export interface JPEGDecoder { getEncodedBuffer: (size: number) => Uint8Array, getDecodedBuffer: () => Uint8Array, readHeader: () => void, decode: () => void, getFrameInfo: () => FrameInfo, delete: () => void }
  export interface Module { JPEGDecoder: new () => JPEGDecoder }
  const factory: (options?: { print?: (text: string) => void, printErr?: (text: string) => void }) => Promise<Module>
  export default factory
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  export interface FrameInfo { width: number, height: number, bitsPerSample: number, componentCount: number }
  export interface JpegLSDecoder { getEncodedBuffer: (size: number) => Uint8Array, getDecodedBuffer: () => Uint8Array, decode: () => void, getFrameInfo: () => FrameInfo, getInterleaveMode: () => number, getNearLossless: () => number, delete: () => void }
  export interface Module { JpegLSDecoder: new () => JpegLSDecoder }
  const factory: (options?: { print?: (text: string) => void, printErr?: (text: string) => void }) => Promise<Module>
  export default factory
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  export interface FrameInfo { width: number, height: number, bitsPerSample: number, componentCount: number, isSigned: boolean }
  export interface J2KDecoder { getEncodedBuffer: (size: number) => Uint8Array, getDecodedBuffer: () => Uint8Array, readHeader: () => void, decode: () => void, getFrameInfo: () => FrameInfo, getColorSpace: () => number, delete: () => void }
  export interface Module { J2KDecoder: new () => J2KDecoder }
  const factory: (options?: { print?: (text: string) => void, printErr?: (text: string) => void }) => Promise<Module>
  export default factory
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor ()
    /** Decodes `length` bytes of `buffer` from `offset`; 8-bit output is Uint8, wider Uint16 (platform order). */
    decode (buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array
  }
}

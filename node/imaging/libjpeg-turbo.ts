/**
 * The lazily loaded libjpeg-turbo decoder (@cornerstonejs/codec-libjpeg-turbo-8bit, the build
 * Cornerstone3D decodes JPEG baseline with): the decode-only module, so its encoder (which
 * writes past its output buffer, see jpeg-encode.ts) is never even loaded.
 */
import type { Module } from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'
import { lazyModule } from './wasm-module.ts'

export const libjpegTurbo = lazyModule<Module>('JPEG (libjpeg-turbo)', async () => await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'))

/**
 * Cornerstone3D, started once per page: the core (rendering), the DICOM image loader (its decode
 * worker and WASM codecs sit next to the bundle, in /assets and /assets/codecs: see
 * scripts/build-viewer.ts) and the tools (window/level, scroll, pan, zoom) used by the stack view.
 */
import { init as coreInit } from '@cornerstonejs/core'
import { sessionEnded } from './api.ts'
import { init as loaderInit } from '@cornerstonejs/dicom-image-loader'
import { addTool, init as toolsInit, PanTool, StackScrollTool, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools'

let started = false

export function startCornerstone (): void {
  if (started) return
  coreInit()
  loaderInit({
    // Decoding happens off the main thread; a few workers are enough for a stack at a time.
    maxWebWorkers: Math.max(1, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2))),
    wasmBasePath: new URL('/assets/codecs/', location.origin).href,
    // An image request refused 401: the session ended (main.ts shows sign-in again).
    errorInterceptor: (error) => { if (error.status === 401) sessionEnded() }
  })
  toolsInit()
  for (const tool of [WindowLevelTool, StackScrollTool, PanTool, ZoomTool]) addTool(tool)
  started = true
}

/**
 * Lazy instances of the emscripten-built codecs (CharLS, OpenJPEG, libjpeg-turbo). A module is
 * loaded and instantiated on its first use, never at import or start-up, so a node that renders
 * no compressed image pays nothing; it is kept for the next frame, and thrown away after a
 * failure inside the codec: an emscripten module that aborted, or whose heap a hostile
 * codestream may have left inconsistent, never decodes another frame. What a module prints
 * goes into the error message, not to the node's stdout.
 */
import { PeerpacsError } from '../../protocol/errors.ts'
import { codecMessage, CorruptPixelDataError } from './errors.ts'

export type EmscriptenFactory<M> = (options?: { print?: (text: string) => void, printErr?: (text: string) => void }) => Promise<M>

export interface LazyModule<M> {
  /**
   * Runs `work` on the module. A PeerpacsError thrown by `work` (a check of ours) passes through;
   * anything else the codec throws discards the instance and becomes a CorruptPixelDataError.
   */
  use: <T>(work: (module: M) => T) => Promise<T>
  /** Whether an instance is loaded now. */
  readonly loaded: boolean
}

export function lazyModule<M> (name: string, load: () => Promise<{ default: EmscriptenFactory<M> }>): LazyModule<M> {
  let instance: Promise<M> | undefined
  let printed: string | undefined
  return {
    get loaded (): boolean { return instance !== undefined },
    async use<T> (work: (module: M) => T): Promise<T> {
      instance ??= load().then(async (m) => await m.default({ print: () => {}, printErr: (text) => { printed = text } }))
      const current = instance
      printed = undefined
      try {
        return work(await current)
      } catch (error) {
        if (error instanceof PeerpacsError) throw error
        if (instance === current) instance = undefined
        const said = printed as string | undefined // set by the module's printErr meanwhile
        const detail = said === undefined ? '' : ` (${said.slice(0, 200)})`
        throw new CorruptPixelDataError(`the ${name} codec failed on this frame: ${codecMessage(error)}${detail}`, { cause: error })
      }
    }
  }
}

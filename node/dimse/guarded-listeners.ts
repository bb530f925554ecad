/**
 * Wraps every listener of an emitter so that an exception thrown in one is handed to `failed`
 * instead of escaping. dcmjs-dimse's emitter (async-event-emitter2) rethrows a listener's
 * exception on a later microtask, where nothing can catch it and the process dies; wrapped,
 * it ends only the association it came from.
 *
 * The emitter calls a listener that declares two parameters with a `next` callback, and one
 * that declares fewer without: each wrapper keeps its listener's arity, and its `listener`
 * property names the original, as `once` wrappers do, so removeListener still finds it.
 */

type Listener = (...args: unknown[]) => unknown

interface Emitter {
  eventNames: () => Array<string | symbol>
  rawListeners: (event: string) => Function[]
  removeAllListeners: (event: string) => unknown
  on: (event: string, listener: Listener) => unknown
}

export function guardListeners (emitter: Emitter, failed: (event: string, error: unknown) => void): void {
  for (const name of emitter.eventNames()) {
    if (typeof name !== 'string') continue
    const event = name
    const listeners = emitter.rawListeners(event) as Listener[]
    emitter.removeAllListeners(event)
    for (const listener of listeners) emitter.on(event, guarded(event, listener, failed))
  }
}

function guarded (event: string, listener: Listener, failed: (event: string, error: unknown) => void): Listener {
  const report = (error: unknown): void => {
    try { failed(event, error) } catch { /* the reporter itself must not throw either */ }
  }
  const settle = (result: unknown): unknown => {
    if (result instanceof Promise) return result.catch(report)
    return result
  }
  const wrapper: Listener = listener.length >= 2
    ? function (this: unknown, first: unknown, next: unknown) {
      try { return settle(listener.call(this, first, next)) } catch (error) { report(error); return undefined }
    }
    : function (this: unknown, ...args: unknown[]) {
      try { return settle(listener.apply(this, args)) } catch (error) { report(error); return undefined }
    }
  Object.defineProperty(wrapper, 'listener', { value: listener })
  return wrapper
}

import * as Y from 'yjs'

/** Resolves when `predicate` holds, re-checking after every update of `doc`. */
export const waitForDoc = (doc: Y.Doc, predicate: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    if (predicate()) return resolve()
    const check = (): void => {
      if (predicate()) {
        doc.off('afterTransaction', check)
        resolve()
      }
    }
    doc.on('afterTransaction', check)
  })

/** Resolves on the first emission of `event` from an Observable-like emitter that satisfies `test`. */
export const waitForEvent = <A extends unknown[]>(
  emitter: { on(e: string, f: (...args: A) => void): void; off(e: string, f: (...args: A) => void): void },
  event: string,
  test: (...args: A) => boolean = () => true,
): Promise<A> =>
  new Promise((resolve) => {
    const handler = (...args: A): void => {
      if (!test(...args)) return
      emitter.off(event, handler)
      resolve(args)
    }
    emitter.on(event, handler)
  })

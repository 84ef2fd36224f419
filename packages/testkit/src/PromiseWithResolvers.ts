// matrix-js-sdk 43 targets Node 22 and calls Promise.withResolvers (ES2024), which Node 20 lacks.
// Importing this module fills in that one builtin (before js-sdk loads); it changes nothing on the wire.
const withResolvers = <T>(): { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void } => {
  let resolve: (value: T | PromiseLike<T>) => void = () => {}
  let reject: (reason?: unknown) => void = () => {}
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

if (!("withResolvers" in Promise)) {
  Object.defineProperty(Promise, "withResolvers", { configurable: true, writable: true, value: withResolvers })
}

export {}

// matrix-js-sdk 43 targets Node 22 and calls Promise.withResolvers (ES2024), which Node 20 lacks.
// This fills in that one runtime builtin for the interop tests; it changes nothing on the wire.
if (!("withResolvers" in Promise)) {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
export {}

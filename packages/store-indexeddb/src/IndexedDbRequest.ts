/**
 * Runs one IndexedDB transaction as an Effect: the body queues requests with callbacks, the result
 * is read when the transaction commits, and any DOMException becomes the port's StorageError.
 */
import { BackupStore } from "@matrix-backup/core"
import { Effect } from "effect"

type Reason = BackupStore.StorageErrorReason

const nameOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "name" in error && typeof error.name === "string" ? error.name : undefined

const reasonOf = (name: string | undefined): Reason => {
  switch (name) {
    case "ConstraintError":
    case "DataError":
      return "Constraint"
    case "InvalidStateError":
      return "Closed"
    case "VersionError":
      return "Migration"
    case "NotFoundError":
      return "Foreign"
    case "TypeError":
      return "Corrupt"
    default:
      return "Io"
  }
}

/** Maps a DOMException (or our own row check) to StorageError; only the exception's name is kept. */
export const toStorageError = (operation: string, error: unknown, reason?: Reason): BackupStore.StorageError => {
  const name = nameOf(error)
  return new BackupStore.StorageError({
    reason: reason ?? reasonOf(name),
    message: `IndexedDB ${operation} failed${name === undefined ? "" : ` (${name})`}`,
    ...(name === undefined ? {} : { code: name }),
  })
}

/** Wraps a request callback so a throw aborts the transaction and is reported as the failure. */
export type Guard = (callback: () => void) => () => void

/** One transaction; `body` returns a function read after commit. */
export const transact = <A>(
  db: IDBDatabase,
  stores: ReadonlyArray<string>,
  mode: IDBTransactionMode,
  operation: string,
  body: (tx: IDBTransaction, guard: Guard) => () => A,
): Effect.Effect<A, BackupStore.StorageError> =>
  Effect.async<A, BackupStore.StorageError>((resume) => {
    let settled = false
    let failure: unknown
    const settle = (effect: Effect.Effect<A, BackupStore.StorageError>) => {
      if (settled) return
      settled = true
      resume(effect)
    }
    let tx: IDBTransaction
    try {
      tx = db.transaction([...stores], mode)
    } catch (error) {
      settle(Effect.fail(toStorageError(operation, error)))
      return
    }
    const guard: Guard = (callback) => () => {
      try {
        callback()
      } catch (error) {
        failure = error
        try {
          tx.abort()
        } catch {
          // already finished: the abort handler or the commit reports it
        }
      }
    }
    let read: (() => A) | undefined
    tx.oncomplete = () =>
      failure === undefined && read !== undefined
        ? settle(Effect.sync(read))
        : settle(Effect.fail(toStorageError(operation, failure)))
    tx.onabort = () => settle(Effect.fail(toStorageError(operation, failure ?? tx.error ?? new DOMException("aborted", "AbortError"))))
    try {
      read = body(tx, guard)
    } catch (error) {
      failure = error
      tx.abort()
    }
  })

/** Queues a request and calls `then` with its result (typed `unknown`, checked by the caller). */
export const onResult = (request: IDBRequest, guard: Guard, then: (value: unknown) => void): void => {
  request.onsuccess = guard(() => then(request.result))
}

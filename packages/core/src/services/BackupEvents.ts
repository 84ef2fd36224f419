/**
 * The four key-backup events of matrix-js-sdk's CryptoApi, with the same string values, on one hub
 * that the engine, secret storage and restore publish to and the Promise facade re-emits.
 */
import { Context, Effect, Layer, PubSub, type Queue, type Scope, Stream } from "effect"

/** Event names, equal to matrix-js-sdk's `CryptoEvent` values. */
export const CryptoEvent = {
  KeyBackupStatus: "crypto.keyBackupStatus",
  KeyBackupSessionsRemaining: "crypto.keyBackupSessionsRemaining",
  KeyBackupFailed: "crypto.keyBackupFailed",
  KeyBackupDecryptionKeyCached: "crypto.keyBackupDecryptionKeyCached",
} as const

/** One of the `CryptoEvent` strings. */
export type CryptoEventName = (typeof CryptoEvent)[keyof typeof CryptoEvent]

/** An event with its payload, as matrix-js-sdk passes it to listeners. */
export type BackupEvent =
  | { readonly name: typeof CryptoEvent.KeyBackupStatus; readonly enabled: boolean }
  | { readonly name: typeof CryptoEvent.KeyBackupSessionsRemaining; readonly remaining: number }
  | { readonly name: typeof CryptoEvent.KeyBackupFailed; readonly errcode: string }
  | { readonly name: typeof CryptoEvent.KeyBackupDecryptionKeyCached; readonly version: string }

/** The listener argument of each event, matching matrix-js-sdk's listener signatures. */
export const payloadOf = (event: BackupEvent): boolean | number | string => {
  switch (event.name) {
    case CryptoEvent.KeyBackupStatus:
      return event.enabled
    case CryptoEvent.KeyBackupSessionsRemaining:
      return event.remaining
    case CryptoEvent.KeyBackupFailed:
      return event.errcode
    case CryptoEvent.KeyBackupDecryptionKeyCached:
      return event.version
  }
}

/** The event hub: publishing never blocks; subscribers see events published after they subscribed. */
export class BackupEvents extends Context.Tag("@matrix-backup/core/BackupEvents")<
  BackupEvents,
  {
    readonly publish: (event: BackupEvent) => Effect.Effect<void>
    readonly subscribe: Effect.Effect<Queue.Dequeue<BackupEvent>, never, Scope.Scope>
    readonly events: Stream.Stream<BackupEvent>
  }
>() {}

/** Builds a hub over an unbounded PubSub. */
export const make: Effect.Effect<Context.Tag.Service<BackupEvents>> = Effect.map(
  PubSub.unbounded<BackupEvent>(),
  (pubsub) => ({
    publish: (event) => Effect.asVoid(PubSub.publish(pubsub, event)),
    subscribe: PubSub.subscribe(pubsub),
    events: Stream.fromPubSub(pubsub),
  }),
)

/** The hub as a Layer. */
export const layer: Layer.Layer<BackupEvents> = Layer.effect(BackupEvents, make)

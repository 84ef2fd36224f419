/**
 * One command's reads of Secret Storage account data, made once: core reads the default key, the key description and
 * the encrypted secrets at every step that needs them (about 14 of a `status`'s 21 requests). Any account-data write
 * forgets them all. The backup preference (`m.key_backup`, PROTOCOL.md §6.6) and everything else is read every time,
 * since another device may turn key storage off while a command runs.
 */
import { HomeserverApi, SecretStorageSchema } from "@matrix-backup/core"
import { Effect, Layer } from "effect"

const SECRETS: ReadonlySet<string> = new Set([SecretStorageSchema.MEGOLM_BACKUP_SECRET, ...SecretStorageSchema.CROSS_SIGNING_SECRETS])

/** The account-data types read once per command: the default key, key descriptions and the secrets. */
const isSecretStorageType = (type: string): boolean =>
  type === SecretStorageSchema.DEFAULT_KEY_EVENT_TYPE || type.startsWith(SecretStorageSchema.KEY_EVENT_TYPE_PREFIX) || SECRETS.has(type)

type Content = Effect.Effect.Success<ReturnType<HomeserverApi.Service["getAccountData"]>>

/** `api` with Secret Storage reads kept after their first answer, until this command writes any account data. */
export const memoize = (api: HomeserverApi.Service): HomeserverApi.Service => {
  const answers = new Map<string, Content>()
  // A read that was under way while a write happened may carry the old content: it is not kept.
  let generation = 0
  const getAccountData: HomeserverApi.Service["getAccountData"] = (type) =>
    Effect.suspend(() => {
      if (!isSecretStorageType(type)) return api.getAccountData(type)
      const known = answers.get(type)
      if (known !== undefined) return Effect.succeed(known)
      const started = generation
      return Effect.tap(api.getAccountData(type), (content) =>
        Effect.sync(() => {
          if (generation === started) answers.set(type, content)
        }),
      )
    })
  const forget = Effect.sync(() => {
    generation++
    answers.clear()
  })
  return {
    ...api,
    getAccountData,
    putAccountData: (type, content) => Effect.ensuring(Effect.zipRight(forget, api.putAccountData(type, content)), forget),
  }
}

/** The memo over the `HomeserverApi` it is given; build it once per command. */
export const layer: Layer.Layer<HomeserverApi.HomeserverApi, never, HomeserverApi.HomeserverApi> = Layer.effect(
  HomeserverApi.HomeserverApi,
  Effect.map(HomeserverApi.HomeserverApi, memoize),
)

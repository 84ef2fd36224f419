// The schema of the state file (Maps stored as arrays of pairs) and its conversion back to State.
import { Either, Schema } from "effect"
import type { AccountDataEntry, BackupVersion, Device, State, User } from "./State.js"

/** Version of the file layout. */
export const FORMAT = 1

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const pairs = <A, I>(value: Schema.Schema<A, I>) => Schema.Array(Schema.Tuple(Schema.String, value))

const EntryJson = Schema.Struct({ content: JsonObject, pos: Schema.Number })
const KeyJson = Schema.Tuple(Schema.Number, Schema.Number, Schema.Boolean, Schema.String)

const BackupJson = Schema.Struct({
  version: Schema.Number,
  algorithm: Schema.String,
  authData: Schema.Unknown,
  etag: Schema.Number,
  deleted: Schema.Boolean,
  count: Schema.Number,
  rooms: pairs(pairs(KeyJson)),
})

const DeviceJson = Schema.Struct({
  deviceId: Schema.String,
  displayName: Schema.optional(Schema.String),
  keys: Schema.optional(JsonObject),
  oneTimeKeys: pairs(Schema.Unknown),
  fallbackKeys: pairs(Schema.Struct({ keyId: Schema.String, key: Schema.Unknown, used: Schema.Boolean })),
  toDevice: Schema.Array(Schema.Struct({ pos: Schema.Number, event: JsonObject })),
})

const UserJson = Schema.Struct({
  userId: Schema.String,
  password: Schema.optional(Schema.String),
  devices: Schema.Array(DeviceJson),
  accountData: pairs(EntryJson),
  roomAccountData: pairs(pairs(EntryJson)),
  backups: Schema.Array(BackupJson),
  crossSigning: Schema.Array(Schema.Tuple(Schema.Literal("master", "self_signing", "user_signing"), JsonObject)),
  filters: Schema.Array(Schema.Unknown),
  deviceListPos: Schema.Number,
})

/** The whole file. */
export const StateFile = Schema.Struct({
  format: Schema.Literal(FORMAT),
  serverName: Schema.String,
  users: Schema.Array(UserJson),
  tokens: pairs(Schema.Struct({ userId: Schema.String, deviceId: Schema.String })),
  txnIds: Schema.Array(Schema.String),
  stream: Schema.Number,
  nextId: Schema.Number,
})

const entries = (list: ReadonlyArray<readonly [string, typeof EntryJson.Type]>): Map<string, AccountDataEntry> =>
  new Map(list.map(([type, entry]) => [type, { content: { ...entry.content }, pos: entry.pos }]))

const toBackup = (raw: typeof BackupJson.Type): BackupVersion => ({
  ...raw,
  rooms: new Map(raw.rooms.map(([roomId, sessions]) => [
    roomId,
    new Map(sessions.map(([id, [firstMessageIndex, forwardedCount, isVerified, sessionData]]) => [id, { firstMessageIndex, forwardedCount, isVerified, sessionData }])),
  ])),
})

const toDevice = (raw: typeof DeviceJson.Type): Device => ({
  deviceId: raw.deviceId,
  displayName: raw.displayName,
  keys: raw.keys === undefined ? undefined : { ...raw.keys },
  oneTimeKeys: new Map(raw.oneTimeKeys),
  fallbackKeys: new Map(raw.fallbackKeys.map(([algorithm, entry]) => [algorithm, { ...entry }])),
  toDevice: raw.toDevice.map((message) => ({ pos: message.pos, event: { ...message.event } })),
})

const toUser = (raw: typeof UserJson.Type): User => ({
  userId: raw.userId,
  password: raw.password,
  devices: new Map(raw.devices.map((device) => [device.deviceId, toDevice(device)])),
  accountData: entries(raw.accountData),
  roomAccountData: new Map(raw.roomAccountData.map(([roomId, list]) => [roomId, entries(list)])),
  backups: raw.backups.map(toBackup),
  crossSigning: new Map(raw.crossSigning.map(([usage, key]) => [usage, { ...key }])),
  filters: [...raw.filters],
  deviceListPos: raw.deviceListPos,
})

/** Parses a state file; throws a clear error for anything that is not one. */
export const deserializeState = (text: string, file: string): State => {
  const decoded = Schema.decodeUnknownEither(Schema.parseJson(StateFile))(text)
  if (Either.isLeft(decoded)) throw new Error(`fake homeserver: ${file} is not a fake-homeserver state file (format ${FORMAT})`)
  const raw = decoded.right
  return {
    serverName: raw.serverName,
    users: new Map(raw.users.map((user) => [user.userId, toUser(user)])),
    tokens: new Map(raw.tokens.map(([token, session]) => [token, { ...session }])),
    uia: new Map(),
    txnIds: new Set(raw.txnIds),
    stream: raw.stream,
    nextId: raw.nextId,
  }
}

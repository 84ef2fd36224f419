// Server profiles: how each homeserver implementation answers the room_keys API where it differs from
// Synapse. The routes read these knobs; README.md names the source file behind each one.

/** The homeserver implementations the fake can imitate. */
export const SERVER_PROFILES = ["synapse", "conduwuit", "tuwunel", "dendrite", "palpo"] as const

/** One of `SERVER_PROFILES`. */
export type ServerProfileName = (typeof SERVER_PROFILES)[number]

/** The room_keys behaviours that differ between implementations. */
export interface ServerProfile {
  readonly name: ServerProfileName
  /** Status and errcode of an upload to a version that exists but is not current. */
  readonly wrongVersion: { readonly status: number; readonly errcode: string }
  /** How "latest" is chosen among versions: highest live number, highest in string order, or highest ever (deleted too). */
  readonly latest: "highestLive" | "stringOrder" | "highestIncludingDeleted"
  /** How an upload's `version` is compared with the current one: as strings ("01" ≠ "1") or as numbers. */
  readonly compareVersions: "string" | "number"
  /** `GET /room_keys/keys?version=` of a deleted or unknown version: 404, or 200 with no rooms. */
  readonly readUnknownVersion: "notFound" | "emptyRooms"
  /**
   * An upload when the account has no live backup: 404, or accepted into the (deleted) version it names, as
   * conduwuit's "is it the latest?" check passes when there is no latest.
   */
  readonly uploadWithoutBackup: "notFound" | "accepted"
  /** An upload to the current version after it was deleted (only reachable with `highestIncludingDeleted`): 500. */
  readonly uploadToDeletedCurrent: "notFound" | "serverError"
  /** The better-key rule applies to every PUT, or only to the per-session PUT (bulk and per-room overwrite). */
  readonly betterKeyRule: "everyPut" | "perSessionOnly"
  /** Whether `DELETE /room_keys/keys[/{roomId}[/{sessionId}]]` exist. */
  readonly deleteKeysRoutes: boolean
  /** etag: per version, a server-wide counter (moves on auth_data updates too), or unchanged by key uploads. */
  readonly etag: "perVersion" | "globalCounter" | "frozenOnUpload"
  /** A new version's etag before any change: "0" or the empty string. */
  readonly initialEtag: "0" | ""
  /** `count` in version info: exact, or as of the last version update (stale after uploads). */
  readonly count: "exact" | "staleAfterUpload"
  /** Whether `PUT /room_keys/version/{v}` rejects an algorithm different from the stored one. */
  readonly updateChecksAlgorithm: boolean
}

const synapse: ServerProfile = {
  name: "synapse",
  wrongVersion: { status: 403, errcode: "M_WRONG_ROOM_KEYS_VERSION" },
  latest: "highestLive",
  compareVersions: "string",
  readUnknownVersion: "notFound",
  uploadWithoutBackup: "notFound",
  uploadToDeletedCurrent: "notFound",
  betterKeyRule: "everyPut",
  deleteKeysRoutes: true,
  etag: "perVersion",
  initialEtag: "0",
  count: "exact",
  updateChecksAlgorithm: true,
}

const conduwuit: ServerProfile = {
  ...synapse,
  name: "conduwuit",
  wrongVersion: { status: 400, errcode: "M_INVALID_PARAM" },
  latest: "stringOrder",
  readUnknownVersion: "emptyRooms",
  uploadWithoutBackup: "accepted",
  betterKeyRule: "perSessionOnly",
  etag: "globalCounter",
}

/** The profile of each implementation. */
export const PROFILES: Readonly<Record<ServerProfileName, ServerProfile>> = {
  synapse,
  conduwuit,
  // A conduwuit fork: same storage, but its own errcode for a wrong version and numeric version order.
  tuwunel: {
    ...conduwuit,
    name: "tuwunel",
    wrongVersion: { status: 400, errcode: "M_WRONG_ROOM_KEYS_VERSION" },
    latest: "highestLive",
    compareVersions: "number",
  },
  dendrite: {
    ...synapse,
    name: "dendrite",
    latest: "highestIncludingDeleted",
    uploadToDeletedCurrent: "serverError",
    deleteKeysRoutes: false,
    initialEtag: "",
    updateChecksAlgorithm: false,
  },
  palpo: { ...synapse, name: "palpo", etag: "frozenOnUpload", count: "staleAfterUpload" },
}

/** Narrows a string (a command-line flag) to a profile name. */
export const isServerProfileName = (name: string): name is ServerProfileName => SERVER_PROFILES.some((known) => known === name)

/** Minimal view of a version row, so this module does not depend on the state's shape. */
interface VersionRow {
  etag: number
  count: number
  countShown?: number
}

/** After keys were added, replaced or deleted (`stream` is the server's new stream position). */
export const noteKeyChange = (row: VersionRow, profile: ServerProfile, stream: number): void => {
  if (profile.etag === "perVersion") row.etag += 1
  else if (profile.etag === "globalCounter") row.etag = stream
}

/** After a version was created or its auth_data replaced. */
export const noteVersionUpdate = (row: VersionRow, profile: ServerProfile, stream: number): void => {
  if (profile.etag === "globalCounter") row.etag = stream
  row.countShown = row.count
}

/** The etag as the profile renders it. */
export const etagOf = (row: VersionRow, profile: ServerProfile): string =>
  row.etag === 0 && profile.initialEtag === "" ? "" : String(row.etag)

/** The count as the profile reports it. */
export const countOf = (row: VersionRow, profile: ServerProfile): number =>
  profile.count === "exact" ? row.count : row.countShown ?? row.count

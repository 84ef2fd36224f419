// Server profiles: how each homeserver implementation answers the room_keys API where it differs from
// Synapse. The routes read these knobs; README.md names the source file behind each one.

/** The homeserver implementations the fake can imitate. */
export const SERVER_PROFILES = ["synapse", "conduwuit", "tuwunel", "dendrite", "palpo"] as const

/** One of `SERVER_PROFILES`. */
export type ServerProfileName = (typeof SERVER_PROFILES)[number]

/**
 * Older release lines whose room_keys API differed from their implementation's profile. Selectable like a profile
 * but not in `SERVER_PROFILES`, which has one entry per implementation (the suites that run on every server).
 */
export const LEGACY_PROFILES = ["palpo-legacy"] as const

/** One of `LEGACY_PROFILES`. */
export type LegacyProfileName = (typeof LEGACY_PROFILES)[number]

/** Any profile the server can be started with by name. */
export type ProfileName = ServerProfileName | LegacyProfileName

/** The room_keys behaviours that differ between implementations. */
export interface ServerProfile {
  readonly name: ProfileName
  /** Status and errcode of an upload to a version that exists but is not current. */
  readonly wrongVersion: { readonly status: number; readonly errcode: string }
  /** How "latest" is chosen among versions: highest live number, highest in string order, or highest ever (deleted too). */
  readonly latest: "highestLive" | "stringOrder" | "highestIncludingDeleted"
  /**
   * How new version numbers are drawn: max + 1 among the user's own versions, or from one serial shared by every
   * user (Dendrite's database sequence), so one user's versions have gaps where other users made theirs, or the
   * creation time in milliseconds (Palpo's `UnixMillis::now()`; no named profile uses it, as the suites' expectations
   * name versions 1, 2, 3).
   */
  readonly versionNumbers: "perUser" | "serverWide" | "creationMillis"
  /** How an upload's `version` is compared with the current one: as strings ("01" ≠ "1") or as numbers (Palpo's i64). */
  readonly compareVersions: "string" | "number"
  /**
   * `GET /room_keys/keys?version=` of a deleted or unknown version: 404, or 200 with whatever is stored under that
   * id (conduwuit reads the key prefix without asking whether the version exists): nothing for an unknown version,
   * and for a deleted one only keys an upload racing the delete wrote after it (seed them with `insertRoomKeys`).
   */
  readonly readUnknownVersion: "notFound" | "storedKeys"
  /**
   * An upload naming a deleted version when the account has no live backup: 404 (every implementation: conduwuit's
   * "is it the latest?" check passes with no latest, but storing a key needs the version's row), or "accepted" into
   * the deleted version. No named profile accepts; the knob lets a test give a client a server that does.
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
  /** The method `/room_keys/version/{v}` takes an update on; the other one answers 405 `M_UNRECOGNIZED`. */
  readonly versionUpdateMethod: "PUT" | "POST"
  /**
   * What an update does: replace `auth_data` in place, or (Palpo before 0.4.0) ignore `{v}` and create a new version
   * from the body, with no keys, which becomes current while `{v}` stays live with its keys; answered 200 `{}`.
   */
  readonly versionUpdate: "inPlace" | "mintsNewVersion"
}

const synapse: ServerProfile = {
  name: "synapse",
  wrongVersion: { status: 403, errcode: "M_WRONG_ROOM_KEYS_VERSION" },
  latest: "highestLive",
  versionNumbers: "perUser",
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
  versionUpdateMethod: "PUT",
  versionUpdate: "inPlace",
}

const conduwuit: ServerProfile = {
  ...synapse,
  name: "conduwuit",
  wrongVersion: { status: 400, errcode: "M_INVALID_PARAM" },
  latest: "stringOrder",
  readUnknownVersion: "storedKeys",
  betterKeyRule: "perSessionOnly",
  etag: "globalCounter",
}

// Palpo answers a wrong version as conduwuit does, reads keys without checking the version, and parses versions as
// integers. Every release routes the version update on POST only (a PUT meets its router's 405 M_UNRECOGNIZED).
const palpo: ServerProfile = {
  ...synapse,
  name: "palpo",
  wrongVersion: { status: 400, errcode: "M_INVALID_PARAM" },
  compareVersions: "number",
  readUnknownVersion: "storedKeys",
  etag: "frozenOnUpload",
  count: "staleAfterUpload",
  versionUpdateMethod: "POST",
  updateChecksAlgorithm: false,
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
  },
  dendrite: {
    ...synapse,
    name: "dendrite",
    latest: "highestIncludingDeleted",
    versionNumbers: "serverWide",
    uploadToDeletedCurrent: "serverError",
    deleteKeysRoutes: false,
    initialEtag: "",
    updateChecksAlgorithm: false,
  },
  palpo,
}

/** The profile of each older release line. */
const LEGACY: Readonly<Record<LegacyProfileName, ServerProfile>> = {
  // Palpo 0.1.1–0.3.0: the update's handler (on POST, as in every release) created a new version from the body.
  "palpo-legacy": { ...palpo, name: "palpo-legacy", versionUpdate: "mintsNewVersion" },
}

/** The profile a name selects. */
export const profileNamed = (name: ProfileName): ServerProfile => (isServerProfileName(name) ? PROFILES[name] : LEGACY[name])

/** Narrows a string (a command-line flag) to a profile name. */
export const isServerProfileName = (name: string): name is ServerProfileName => SERVER_PROFILES.some((known) => known === name)

/** Narrows a string to any profile name, older release lines included. */
export const isProfileName = (name: string): name is ProfileName =>
  isServerProfileName(name) || LEGACY_PROFILES.some((known) => known === name)

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

/** @matrix-backup/http-fetch: the `HomeserverApi` port over `@effect/platform` HttpClient (fetch). */
export * as FetchHomeserverApi from "./FetchHomeserverApi.js"
export * as FetchHomeserverApiConfig from "./Config.js"
export * as RoomKeyStream from "./RoomKeyStream.js"
export { fetchHomeserver, type FetchHomeserverOptions } from "./FetchHomeserver.js"

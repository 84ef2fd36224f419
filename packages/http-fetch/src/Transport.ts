/**
 * One Matrix request over `HttpClient`: URL and auth, per-request timeout, status/errcode mapping,
 * JSON decoding. Every failure leaves as a `HomeserverApiError`; bodies never enter an error.
 */
import { HttpClientRequest } from "@effect/platform"
import type { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { HomeserverError } from "@matrix-backup/core"
import { HomeserverResponse, ParseErrorSummary } from "@matrix-backup/core/adapter"
import type { Ids } from "@matrix-backup/core"
import { Effect, Predicate, Schema } from "effect"
import type { Settings } from "./Config.js"
import { withRetry } from "./Retry.js"

/** What to send and how to read failures. `path` is already percent-encoded. */
export interface Call {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  readonly path: string
  readonly query?: Readonly<Record<string, string>>
  readonly body?: unknown
  /** Stable name for logs and errors (no ids), e.g. `GET /room_keys/keys`. */
  readonly endpoint: string
  /** Under `/room_keys`: 404 `M_NOT_FOUND` then means `BackupNotFound`. */
  readonly roomKeys: boolean
  readonly version?: Ids.BackupVersion
}

type ApiError = HomeserverError.HomeserverApiError

/** Percent-encodes one path segment (`/`, `+`, `:` become escapes; `!` stays). */
export const segment = (value: string): string => encodeURIComponent(value)

const transportError = (endpoint: string, error: HttpClientError.HttpClientError): ApiError => {
  const cause: unknown = error.cause
  const aborted = Predicate.isRecord(cause) && cause.name === "AbortError"
  const detail = error._tag === "RequestError" ? error.reason : "body"
  return new HomeserverError.TransportError({
    reason: aborted ? "Aborted" : "Network",
    message: `${endpoint}: ${aborted ? "aborted" : "connection failed"} (${detail})`,
  })
}

/** `Retry-After` as seconds or an HTTP date, in ms. */
export const parseRetryAfter = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined || header.trim() === "") return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000))
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const parseJson = (text: string): unknown => {
  if (text.trim() === "") return {}
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Builds requests and runs them for one configured client. */
export const makeTransport = (settings: Settings, client: HttpClient.HttpClient) => {
  const timeout = <A>(endpoint: string) => (effect: Effect.Effect<A, ApiError>) =>
    Effect.timeoutFail(effect, {
      duration: settings.requestTimeout,
      onTimeout: () => new HomeserverError.TransportError({ reason: "Timeout", message: `${endpoint}: timed out` }),
    })

  const build = (call: Call): HttpClientRequest.HttpClientRequest => {
    let request = HttpClientRequest.make(call.method)(settings.clientBase + call.path).pipe(
      HttpClientRequest.bearerToken(settings.accessToken),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setUrlParams(call.query ?? {}),
    )
    if (settings.userAgent !== undefined) request = HttpClientRequest.setHeader(request, "user-agent", settings.userAgent)
    return call.body === undefined ? request : HttpClientRequest.bodyUnsafeJson(request, call.body)
  }

  const failure = (call: Call, response: HttpClientResponse.HttpClientResponse) =>
    Effect.flatMap(Effect.orElseSucceed(response.text, () => ""), (text) => {
      const error = HomeserverResponse.fromResponse(response.status, parseJson(text), {
        roomKeys: call.roomKeys,
        ...(call.version === undefined ? {} : { version: call.version }),
      })
      if (error._tag !== "RateLimited" || error.retryAfterMs !== undefined) return Effect.fail(error)
      const retryAfterMs = parseRetryAfter(response.headers["retry-after"], Date.now())
      return Effect.fail(retryAfterMs === undefined ? error : new HomeserverError.RateLimited({ ...error, retryAfterMs }))
    })

  /** Sends once; a 2xx response is returned unread, anything else fails mapped. */
  const send = (call: Call): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> =>
    client.execute(build(call)).pipe(
      Effect.mapError((error) => transportError(call.endpoint, error)),
      Effect.flatMap((response) =>
        response.status >= 200 && response.status < 300 ? Effect.succeed(response) : failure(call, response),
      ),
    )

  /** Sends once and decodes the JSON body with `schema`, all under the request timeout. */
  const once = <A, I>(call: Call, schema: Schema.Schema<A, I>): Effect.Effect<A, ApiError> =>
    send(call).pipe(
      Effect.flatMap((response) => Effect.mapError(response.text, (error) => transportError(call.endpoint, error))),
      Effect.flatMap((text) => {
        const body = parseJson(text)
        if (body === undefined) {
          return Effect.fail(new HomeserverError.MalformedResponse({ endpoint: call.endpoint, summary: "invalid JSON" }))
        }
        return Effect.mapError(
          Schema.decodeUnknown(schema)(body),
          (error) =>
            new HomeserverError.MalformedResponse({
              endpoint: call.endpoint,
              summary: ParseErrorSummary.summarizeParseError(error),
            }),
        )
      }),
      timeout(call.endpoint),
    )

  /** `once` with the retry policy. */
  const json = <A, I>(call: Call, schema: Schema.Schema<A, I>): Effect.Effect<A, ApiError> =>
    withRetry(settings.retry, call.endpoint, once(call, schema))

  /** Sends with retries and returns the 2xx response for the caller to stream (headers under the timeout). */
  const open = (call: Call): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> =>
    withRetry(settings.retry, call.endpoint, timeout<HttpClientResponse.HttpClientResponse>(call.endpoint)(send(call)))

  return { json, once, open, transportError, timeout }
}

/** The transport of one configured client. */
export type Transport = ReturnType<typeof makeTransport>

// Transport-neutral request/response shapes for the fake homeserver core, plus Matrix JSON helpers.
// The same core serves real loopback HTTP and the in-process fetch, so faults and logging live here.

/** A request as the core sees it: the body is already read (and size-checked) by the transport. */
export interface CoreRequest {
  readonly method: string
  /** Raw path and query, still percent-encoded, e.g. `/_matrix/client/v3/room_keys/keys?version=1`. */
  readonly url: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: Uint8Array
  /** Aborted when the client goes away (long-poll `/sync` stops waiting). */
  readonly signal?: AbortSignal
}

/** A response; a streamed body lets body faults (slow, reset) act in the middle of it. */
export interface CoreResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | AsyncIterable<Uint8Array>
}

/** Thrown by transports when a `resetMidBody` fault fires: the connection must be torn down. */
export class ConnectionReset extends Error {
  constructor() {
    super("connection reset by fake homeserver fault")
    this.name = "ConnectionReset"
  }
}

/** A Matrix error response; thrown inside handlers and turned into JSON by the app. */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = "MatrixError"
  }
}

const encoder = new TextEncoder()

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "X-Requested-With, Content-Type, Authorization, Date",
} as const

/** A JSON response with Synapse's headers. */
export const json = (status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): CoreResponse => {
  const body = encoder.encode(JSON.stringify(value))
  return {
    status,
    headers: {
      "content-type": "application/json",
      "content-length": String(body.byteLength),
      "cache-control": "no-cache, no-store, must-revalidate",
      ...CORS_HEADERS,
      ...headers,
    },
    body,
  }
}

/** A streamed JSON response built from string pieces; chunks are batched to ~64 KiB. */
export const jsonStream = (status: number, pieces: () => Iterable<string>): CoreResponse => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-cache, no-store, must-revalidate", ...CORS_HEADERS },
  body: batchPieces(pieces),
})

async function* batchPieces(pieces: () => Iterable<string>): AsyncIterable<Uint8Array> {
  let buffer = ""
  for (const piece of pieces()) {
    buffer += piece
    if (buffer.length >= 65536) {
      yield encoder.encode(buffer)
      buffer = ""
    }
  }
  if (buffer.length > 0) yield encoder.encode(buffer)
}

/** The response for a MatrixError. */
export const errorResponse = (error: MatrixError): CoreResponse =>
  json(error.status, { errcode: error.errcode, error: error.message, ...error.extra }, error.headers)

/** `404 M_NOT_FOUND`. */
export const notFound = (message: string): MatrixError => new MatrixError(404, "M_NOT_FOUND", message)
/** `400 M_BAD_JSON`. */
export const badJson = (message: string): MatrixError => new MatrixError(400, "M_BAD_JSON", message)
/** `400 M_INVALID_PARAM`. */
export const invalidParam = (message: string): MatrixError => new MatrixError(400, "M_INVALID_PARAM", message)
/** `403 M_FORBIDDEN`. */
export const forbidden = (message: string): MatrixError => new MatrixError(403, "M_FORBIDDEN", message)

/** A plain JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>

/** Type guard for plain JSON objects. */
export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The object at `value[key]`, or an empty object when absent or not an object. */
export const objectAt = (value: JsonObject, key: string): JsonObject => {
  const inner = value[key]
  return isObject(inner) ? inner : {}
}

/** The string at `value[key]`, if it is one. */
export const stringAt = (value: JsonObject, key: string): string | undefined => {
  const inner = value[key]
  return typeof inner === "string" ? inner : undefined
}

/** Reads all chunks of a body (used by the in-process client and tests). */
export const collectBody = async (body: CoreResponse["body"]): Promise<Uint8Array> => {
  if (body instanceof Uint8Array) return body
  const chunks: Array<Uint8Array> = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Thrown when a handler must answer with a ready-made response (user-interactive auth 401s). */
export class ResponseError extends Error {
  constructor(readonly response: CoreResponse) {
    super(`response ${response.status}`)
    this.name = "ResponseError"
  }
}

/** Schema failures summarised for errors and logs: paths and issue kinds, never the offending values. */
import { ParseResult } from "effect"

/** A schema failure as `path: issue` lines, without the offending values. */
export const summarizeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".")}: ${issue._tag}`)
    .join("; ")

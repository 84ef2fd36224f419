/** What the command knows of its terminal: whether a person can answer questions, and how wide a line may be. */

/** A person is at the keyboard: questions can be asked on stderr and answered on stdin. */
export const isInteractive = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true

/** The width of `stream` when it is a terminal. */
export const columnsOf = (stream: NodeJS.WriteStream): number | undefined =>
  stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0 ? stream.columns : undefined

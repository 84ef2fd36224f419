/** @matrix-backup/cli: the `matrix-backup` command (the entry point is `bin.js`). */
export { root, run } from "./Cli.js"
export { CliError, toCliError } from "./CliError.js"

/** @matrix-backup/cli: the `matrix-backup` command (the entry point is `bin.js`). */
export { commands, main } from "./Cli.js"
export { CliError, toCliError } from "./CliError.js"

/**
 * `demo [--keys N] [--concurrency N] [--threads N]`: the whole job on an embedded fake homeserver (loopback HTTP, in this process):
 * one account with two devices; the first sets up Secret Storage and a backup and backs up N realistic room keys;
 * the second opens Secret Storage with the recovery key, restores everything into a fresh SQLite store, and every
 * key is checked against the original.
 */
import { Effect } from "effect"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import * as Flags from "../Flags.js"

const options = {
  keys: Opt.integer("N", "How many room keys to back up and restore", { default: 10_000, min: 1 }),
  ...Flags.decryption,
  json: Flags.json,
}

/** The options of `demo`. */
export type DemoOptions = typeof options

/** The `demo` command. */
export const demoCommand = defineCommand({
  name: "demo",
  summary: "Back up and restore room keys end to end on an embedded fake homeserver",
  description:
    "Starts a fake homeserver inside this process (real HTTP on 127.0.0.1), registers an account with two devices, " +
    "sets up Secret Storage and a backup on the first, backs up generated room keys, then restores them on the second " +
    "with the recovery key and checks every key against the original. Touches no real account.",
  options,
  examples: [
    { command: "matrix-backup demo", says: "10,000 keys, with progress bars" },
    { command: "matrix-backup demo --keys 100000 --threads 2 --json", says: "100,000 keys decrypted on two worker threads; the figures as JSON" },
  ],
  // The fake homeserver loads only when the demo runs (a chunk of its own in the bundle).
  run: (o) => Effect.flatMap(Effect.promise(() => import("./DemoRun.js")), ({ runDemo }) => runDemo(o)),
})

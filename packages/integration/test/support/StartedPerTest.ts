// The fake homeserver and Promise clients one facade test starts, stopped after each test so that a failing test
// leaves no server or upload loop running into the next.
import { afterEach } from "@effect/vitest"
import type { KeyBackupClient } from "@matrix-backup/core"
import { type FakeHomeserverOptions, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"

export interface StartedPerTest {
  /** Clients pushed here are stopped after the test, before the server. */
  readonly clients: Array<KeyBackupClient.KeyBackupClient>
  /** Starts this test's fake homeserver. */
  readonly startServer: (options?: FakeHomeserverOptions) => Promise<RunningFakeHomeserver>
}

/** Registers the after-each clean-up; call once at the top of a test file. */
export const startedPerTest = (): StartedPerTest => {
  const clients: Array<KeyBackupClient.KeyBackupClient> = []
  let server: RunningFakeHomeserver | undefined
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.stop()
    await server?.stop()
    server = undefined
  })
  return { clients, startServer: async (options) => (server = await startFakeHomeserver(options)) }
}

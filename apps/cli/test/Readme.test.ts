// README.md's command-line example, run as a new user would: each line exactly as written, through `pnpm
// matrix-backup` from the repository root, in a fresh shell environment, against the testkit server. Only the
// placeholders a user fills in are replaced (homeserver, tokens, the recovery key `create` printed), and after each
// line its effect on the server (or in the file it wrote) is checked.
import { KeyExportFile } from "@matrix-backup/core"
import { generateRoomKeys, loginNewDevice, registerUser, type RunningFakeHomeserver, startFakeHomeserver } from "@matrix-backup/testkit"
import { execFile } from "node:child_process"
import { pbkdf2Sync, randomBytes } from "node:crypto"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { stateDir } from "./support.js"

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

/** The first ```sh block of the README's section on the command. */
const readmeExample = (): Array<string> => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## The `matrix-backup` command"))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ""
  return block.split("\n").filter((line) => line.trim() !== "")
}

/** A shell as a new user has it: PATH with the pinned pnpm (as README.md says), no variables from this test runner. */
const freshEnv = (extra: Record<string, string>): Record<string, string> => {
  const keep = ["HOME", "LANG", "TERM", "TMPDIR", "USER"]
  const base = Object.fromEntries(keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, String(process.env[k])]])))
  return { ...base, PATH: `${join(ROOT, ".tools", "bin")}:${process.env["PATH"] ?? ""}`, ...extra }
}

const sh = (line: string, env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile("bash", ["-c", line], { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    })
  })

const FILES = ["keys.txt", "backup.txt", "backup.json"].map((f) => join(ROOT, f))
const PASSPHRASE = "correct horse"

let server: RunningFakeHomeserver
beforeAll(async () => {
  server = await startFakeHomeserver()
}, 60_000)
afterAll(async () => {
  for (const file of FILES) rmSync(file, { force: true })
  await server.stop()
})

/** The Element file a user would have exported from another client (fewer PBKDF2 rounds, to keep the test quick). */
const writeElementFile = (keys: ReturnType<typeof generateRoomKeys>) => {
  const parameters = { salt: randomBytes(16), iv: randomBytes(16), rounds: 10_000 }
  writeFileSync(FILES[0] ?? "", KeyExportFile.encryptKeyExport(JSON.stringify(keys), PASSPHRASE, parameters))
}

const readElementFile = (path: string): Array<{ session_key: string }> => {
  const body = Either.getOrThrow(KeyExportFile.parseKeyExportFile(readFileSync(path, "utf8")))
  const keys = KeyExportFile.splitKeyExportKeys(pbkdf2Sync(PASSPHRASE, body.salt, body.rounds, 64, "sha512"))
  return JSON.parse(Either.getOrThrow(KeyExportFile.decryptKeyExportWithKeys(body, keys)))
}

const sessionKeys = (list: ReadonlyArray<{ session_key: string }>) => list.map((k) => k.session_key).sort()

describe("README.md's matrix-backup example", () => {
  it("runs line by line as written, and each line does what its comment says", { timeout: 300_000 }, async () => {
    const lines = readmeExample()
    expect(lines.filter((l) => l.startsWith("pnpm matrix-backup "))).toHaveLength(8)
    for (const file of FILES) expect(existsSync(file), `${file} is in the way`).toBe(false)
    const first = await registerUser(server.url)
    const second = await loginNewDevice(server.url, first)
    const originals = generateRoomKeys(150, { rooms: 4 })
    writeElementFile(originals)
    const fill: Record<string, string> = {
      "https://matrix.example.org": server.url,
      syt_first_device_token: first.accessToken,
      syt_new_device_token: second.accessToken,
    }
    const env = freshEnv({ XDG_STATE_HOME: stateDir() })
    for (const written of lines) {
      const line = Object.entries(fill).reduce((text, [from, to]) => text.split(from).join(to), written)
      const exported = /^export (\w+)=(\S+)/.exec(line)
      if (exported !== null) {
        env[exported[1] ?? ""] = exported[2] ?? ""
        continue
      }
      const command = written.split(/\s+/)[2] ?? ""
      if (command === "restore") await server.admin.clearRequestLog()
      const run = await sh(line, env)
      expect({ line: written, code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 })
      expect(run.stderr, written).not.toContain("$ pnpm")
      if (command === "status") expect(run.stdout).toMatch(/^Backup: none on the homeserver\.$/m)
      if (command === "create") {
        const key = /^ {4}(Es\S{2}(?: \S{4}){11})$/m.exec(run.stdout)?.[1]
        expect(key).toBeDefined()
        fill["<recovery key>"] = key ?? ""
        expect(await server.admin.backupVersions(first.userId)).toMatchObject([{ version: "1", deleted: false }])
        expect(await server.admin.accountData(first.userId, "m.megolm_backup.v1")).toMatchObject({ encrypted: expect.any(Object) })
      }
      if (command === "import") {
        expect(run.stdout).toMatch(/Imported 150 new keys/)
        expect(await server.admin.roomKeys(first.userId, "1")).toHaveLength(150)
      }
      if (command === "doctor") expect(run.stdout).toMatch(/^Key storage: in sync\.$/m)
      if (command === "restore") {
        expect(run.stdout).toMatch(/^Restored 150 of 150 keys$/m)
        // Restored keys count as backed up to version 1: the new device uploads none of them.
        const log = await server.admin.requestLog()
        expect(log.filter((r) => r.method === "PUT" && r.path.includes("/room_keys/keys"))).toEqual([])
      }
      if (written.includes("backup.txt")) expect(sessionKeys(readElementFile(FILES[1] ?? ""))).toEqual(sessionKeys(originals))
      if (written.includes("backup.json")) expect(sessionKeys(JSON.parse(readFileSync(FILES[2] ?? "", "utf8")))).toEqual(sessionKeys(originals))
      if (command === "delete") expect(await server.admin.backupVersions(first.userId)).toMatchObject([{ version: "1", deleted: true }])
    }
  })
})

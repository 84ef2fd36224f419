/** The page: wires the five steps to the flows, one device runtime per "device". */
import type { RoomKey } from "@matrix-backup/core"
import { Effect, Either, type ManagedRuntime } from "effect"
import { type Login, loginNewDevice, register } from "./Accounts.js"
import { type DeviceServices, openDevice } from "./Device.js"
import { backUpKeys, createBackup, restoreWithRecoveryKey, verify } from "./Flow.js"
import { describeError } from "./Errors.js"
import { diagnose, diagnosisLines, type HealthLine, repair, stepLines } from "./Health.js"
import { generateRoomKeys } from "./RoomKeys.js"

const $ = (id: string): HTMLElement => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} is missing`)
  return element
}

/** An `<input>` of the page. */
const input = (id: string): HTMLInputElement => {
  const element = $(id)
  if (!(element instanceof HTMLInputElement)) throw new Error(`#${id} is not an input`)
  return element
}

/** A button or input of the page (both can be disabled). */
const control = (id: string): HTMLButtonElement | HTMLInputElement => {
  const element = $(id)
  if (!(element instanceof HTMLButtonElement || element instanceof HTMLInputElement)) throw new Error(`#${id} is not a control`)
  return element
}

type Device = ManagedRuntime.ManagedRuntime<DeviceServices, unknown>
const session: { login?: Login; password?: string; first?: Device; second?: Device; originals: ReadonlyArray<RoomKey.RoomKey> } = { originals: [] }
const homeserver = () => input("homeserver").value.replace(/\/+$/, "")
const fmt = (n: number) => n.toLocaleString("en-US")
const random = () => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("")

const progress = (id: string) => (done: number, total: number) => {
  const box = $(id)
  box.classList.add("active")
  const ratio = total > 0 ? Math.min(1, done / total) : 0
  box.querySelector<HTMLElement>(".bar")?.style.setProperty("width", `${Math.round(ratio * 100)}%`)
  const label = box.querySelector<HTMLElement>(".label")
  if (label !== null) label.textContent = `${fmt(done)} / ${fmt(total)} keys`
}

const setLabel = (id: string, text: string) => {
  const label = $(id).querySelector<HTMLElement>(".label")
  if (label !== null) label.textContent = text
}

const finish = (step: string, next?: ReadonlyArray<string>) => {
  $(step).classList.add("done")
  for (const id of next ?? []) control(id).disabled = false
}

/** Runs a step: disables its button while it runs, shows any failure without secrets. */
const step = (buttonId: string, body: () => Promise<void>) => {
  const button = control(buttonId)
  button.addEventListener("click", () => {
    button.disabled = true
    $("error").hidden = true
    body().catch((error: unknown) => {
      $("error").textContent = describeError(error)
      $("error").hidden = false
      button.disabled = false
    })
  })
}

const run = <A, E>(device: Device | undefined, effect: Effect.Effect<A, E, DeviceServices>): Promise<A> => {
  if (device === undefined) return Promise.reject(new Error("Do the previous step first"))
  // Failures come back as values so the page can name them (a rejected runPromise would wrap them).
  return device.runPromise(Effect.either(effect)).then((result) => {
    if (Either.isLeft(result)) throw result.left
    return result.right
  })
}

step("create-account", async () => {
  session.password = `pw-${random()}${random()}`
  session.login = await register(homeserver(), `playground-${random()}`, session.password)
  session.first = openDevice(homeserver(), session.login, `matrix-backup-playground-${session.login.deviceId}`)
  $("account-out").textContent = `Signed in as ${session.login.userId} on device ${session.login.deviceId}.`
  finish("step-account", ["create-backup"])
})

step("create-backup", async () => {
  const created = await run(session.first, createBackup)
  $("recovery-key").textContent = created.recoveryKey
  $("recovery").hidden = false
  finish("step-backup", ["backup-keys", "diagnose", "repair"])
})

step("backup-keys", async () => {
  const count = Math.max(1, Math.min(100_000, Number(input("key-count").value) || 1))
  session.originals = generateRoomKeys(count)
  const done = await run(session.first, backUpKeys(session.originals, progress("backup-progress")))
  setLabel("backup-progress", `${fmt(count)} keys backed up in ${done.seconds.toFixed(2)} s (${fmt(done.keysPerSecond)} keys/s)`)
  finish("step-keys", ["new-device"])
})

step("new-device", async () => {
  if (session.login === undefined || session.password === undefined) throw new Error("Create the account first")
  const login = await loginNewDevice(homeserver(), session.login.userId, session.password)
  const workers = Math.max(0, Math.min(16, Math.floor(Number(input("decrypt-workers").value) || 0)))
  session.second = openDevice(homeserver(), login, `matrix-backup-playground-${login.deviceId}`, workers)
  const where = workers === 0 ? "decrypting on this page's thread" : `decrypting on ${workers} Web Worker${workers === 1 ? "" : "s"}`
  $("device-out").textContent = `Signed in again as device ${login.deviceId}, with an empty store, ${where}.`
  finish("step-device", ["recovery-input", "restore"])
})

step("restore", async () => {
  const recoveryKey = input("recovery-input").value
  const done = await run(session.second, restoreWithRecoveryKey(recoveryKey, progress("restore-progress")))
  const verified = await run(session.second, verify(session.originals))
  const failures = Object.entries(done.result.failures).filter(([, n]) => n > 0)
  const result = $("result")
  const stat = (value: string, label: string, ok = false) => `<div class="stat${ok ? " ok" : ""}"><b>${value}</b><span>${label}</span></div>`
  result.innerHTML = [
    stat(fmt(done.result.total), "keys in the backup"),
    stat(fmt(done.result.imported), "restored", done.result.imported === done.result.total),
    stat(`${fmt(verified)} / ${fmt(session.originals.length)}`, "identical to the originals", verified === session.originals.length),
    stat(`${done.seconds.toFixed(2)} s`, "restore time"),
    stat(fmt(done.keysPerSecond), "keys per second"),
    stat(fmt(failures.reduce((a, [, n]) => a + n, 0)), "failures"),
    `<p class="failures">Failures by reason: ${failures.length === 0 ? "none" : failures.map(([r, n]) => `${r} ${fmt(n)}`).join(", ")}</p>`,
  ].join("")
  result.hidden = false
  result.dataset["state"] = "done"
  finish("step-restore")
})

/** Runs a health action on the newest device; its button comes back when it is done, so it can run again. */
const healthAction = (buttonId: string, body: (device: Device | undefined) => Promise<{ lines: ReadonlyArray<HealthLine>; healthy: boolean }>) => {
  const button = control(buttonId)
  button.addEventListener("click", () => {
    button.disabled = true
    $("error").hidden = true
    const list = $("health")
    delete list.dataset["state"]
    body(session.second ?? session.first)
      .then(({ lines, healthy }) => {
        list.replaceChildren(
          ...lines.map((line) => {
            const item = document.createElement("li")
            item.dataset["kind"] = line.kind
            item.dataset["action"] = line.action
            item.textContent = line.text
            return item
          }),
        )
        list.hidden = false
        list.dataset["state"] = healthy ? "healthy" : "drift"
      })
      .catch((error: unknown) => {
        $("error").textContent = describeError(error)
        $("error").hidden = false
      })
      .finally(() => {
        button.disabled = false
      })
  })
}

healthAction("diagnose", async (device) => {
  const diagnosis = await run(device, diagnose)
  return { lines: diagnosisLines(diagnosis), healthy: diagnosis.healthy }
})

healthAction("repair", async (device) => {
  const repaired = await run(device, repair(input("recovery-input").value))
  return { lines: [...stepLines(repaired.steps), ...diagnosisLines(repaired.after)], healthy: repaired.after.healthy }
})

const params = new URLSearchParams(location.search)
input("homeserver").value = params.get("homeserver") ?? "http://127.0.0.1:8008"
input("decrypt-workers").value = params.get("workers") ?? "0"

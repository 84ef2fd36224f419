/**
 * `doctor [--fix]`: diagnoses key storage (the backup, this device's key, Secret Storage, the account's key storage
 * preference, uploads) and, with `--fix`, repairs what it can without losing a key. A reset asks first.
 */
import { KeyStorage, Recovery } from "@matrix-backup/core"
import { Effect } from "effect"
import { defineCommand } from "../args/Command.js"
import * as Opt from "../args/Options.js"
import { recoveryInput } from "../backup/Unlock.js"
import { toCliError } from "../CliError.js"
import { requireConsent } from "../Consent.js"
import * as Flags from "../Flags.js"
import { givenSecret, type SecretInput } from "../Secrets.js"
import { noPreparation, runOnDevice } from "../Session.js"
import { diagnosisText, stepsText } from "./DoctorText.js"

const options = {
  fix: Opt.flag("Repair what can be repaired without losing a key"),
  allowReset: Opt.flag("With --fix: may make a new backup when the current one cannot be used (deletes the other versions)"),
  turnOn: Opt.flag("With --fix: turn key storage back on when the account chose none"),
  force: Flags.force("Reset"),
  ...Flags.secrets,
  ...Flags.connection,
  json: Flags.json,
}

type Options = { readonly fix: boolean; readonly allowReset: boolean; readonly turnOn: boolean; readonly force: boolean } & SecretInput

const secretStorageKey = (input: SecretInput) => Effect.map(givenSecret(input), (secret) => (secret === undefined ? undefined : recoveryInput(secret)))

const doctor = (o: Options) =>
  Effect.gen(function* () {
    const keyStorage = yield* KeyStorage.KeyStorage
    const key = yield* secretStorageKey(o)
    // Opened first, so the diagnosis (and the question before a reset) already sees what is in Secret Storage.
    if (key !== undefined) yield* Effect.flatMap(Recovery.Recovery, (recovery) => Effect.mapError(recovery.openSecretStorage(key), toCliError))
    const diagnose = Effect.mapError(keyStorage.diagnoseKeyStorage(), toCliError)
    if (!o.fix) return { diagnosis: yield* diagnose, repair: null }
    // The repair diagnoses again itself: a diagnosis of our own is needed only to ask before a reset.
    if (o.allowReset && (yield* diagnose).drifts.some((d) => d.action === "ResetBackup")) {
      yield* requireConsent(o.force, {
        question: "Make a new key backup? Every other backup version, and keys only they hold, will be deleted from the homeserver.",
        refusal: "This would make a new key backup and delete the other versions on the homeserver; add --force to go ahead",
      })
    }
    const repair = yield* Effect.mapError(
      keyStorage.repairKeyStorage({
        allowReset: o.allowReset,
        turnOnKeyStorage: o.turnOn,
      }),
      toCliError,
    )
    return { diagnosis: repair.after, repair: { before: repair.before, steps: repair.steps } }
  })

type Report = Effect.Effect.Success<ReturnType<typeof doctor>>

const human = (r: Report) => [...(r.repair === null ? [] : stepsText(r.repair.steps)), ...diagnosisText(r.diagnosis)].join("\n")

/** The `doctor` command. */
export const doctorCommand = defineCommand({
  name: "doctor",
  summary: "Find and fix key storage that is out of sync (backup, this device's key, Secret Storage)",
  description:
    "Checks the homeserver's key backup, the key this device holds, the key in Secret Storage and the account's key " +
    "storage preference, and says what is out of sync and what fixes it. With --fix it repairs what it can without " +
    "losing a key: it never makes a new backup without --allow-reset, and asks before it does. A backup that lacks " +
    "the cross-signing signature is signed with the master key read from Secret Storage (give --recovery-key), once " +
    "it is checked against the account's published one.",
  options,
  examples: [
    { command: "matrix-backup doctor", says: "What is out of sync, and what fixes it" },
    { command: "matrix-backup doctor --fix --recovery-key 'EsT…'", says: "Repairs it, reading and writing Secret Storage with the recovery key" },
    { command: "matrix-backup doctor --json", says: "The diagnosis as one JSON document" },
  ],
  run: (o) =>
    runOnDevice(o, {
      prepare: noPreparation,
      body: () => doctor(o),
      render: {
        human,
        json: (r) => ({
          diagnosis: KeyStorage.diagnosisJson(r.diagnosis),
          repair: r.repair === null ? null : { before: KeyStorage.diagnosisJson(r.repair.before), steps: r.repair.steps },
        }),
      },
    }),
})

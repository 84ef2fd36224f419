// Restore benchmark, our side on a worker thread: the process' main thread loads nothing but this launcher and runs
// RestoreBenchOurs on a thread whose V8 heap is bounded with Node's `resourceLimits`, as an application can do at
// run time without process-wide flags. Its JSON line reaches stdout through the thread's process.stdout.
import { Worker } from "node:worker_threads"

const [maxOldGenerationSizeMb, maxYoungGenerationSizeMb] = (process.env.RESTORE_BENCH_THREAD_HEAP ?? "256,12").split(",").map(Number)
const thread = new Worker(new URL("./RestoreBenchOurs.mjs", import.meta.url), { resourceLimits: { maxOldGenerationSizeMb, maxYoungGenerationSizeMb } })
thread.on("error", (error) => {
  console.error(error)
  process.exitCode = 1
})

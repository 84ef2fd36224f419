// docs/guide.md shows the examples as they are: every TypeScript or HTML sample in it is introduced by a link to its
// file under examples/ and equals that file, and every example file is shown there.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { examplePath } from "./RunExample.js"

const guide = readFileSync(examplePath("../docs/guide.md"), "utf8")
const SAMPLE = /\[`(examples\/[^`]+)`\]\(\.\.\/\1\)\n\n```(?:ts|html)\n([\s\S]*?)```/g
const samples = [...guide.matchAll(SAMPLE)].map((match) => ({ path: match[1] ?? "", body: match[2] ?? "" }))

/** The example files the guide must show: everything under node/, browser/ and effect/. */
const exampleFiles = ["node", "browser", "effect"].flatMap((folder) => readdirSync(examplePath(folder)).map((name) => `examples/${join(folder, name)}`))

describe("docs/guide.md", () => {
  it("has no TypeScript or HTML sample that is not an example file", () => {
    const blocks = guide.match(/```(?:ts|html)\n/g) ?? []
    expect(samples.length).toBe(blocks.length)
  })

  it.each(samples.map((s) => [s.path, s.body] as const))("shows %s unchanged", (path, body) => {
    expect(body).toBe(readFileSync(examplePath(path.replace(/^examples\//, "")), "utf8"))
  })

  it("links only to files that exist and to headings it has", () => {
    const slug = (heading: string) => heading.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")
    const anchors = new Set([...guide.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] ?? "")))
    const targets = [...guide.replace(/```[\s\S]*?```/g, "").matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "")
    const guideDir = dirname(examplePath("../docs/guide.md"))
    const broken = targets.filter((target) =>
      target.startsWith("#") ? !anchors.has(target.slice(1)) : !/^https?:/.test(target) && !existsSync(join(guideDir, target.split("#")[0] ?? "")),
    )
    expect(targets.length).toBeGreaterThan(20)
    expect(broken).toEqual([])
  })

  it("shows every example file", () => {
    expect(samples.map((s) => s.path).sort()).toEqual([...exampleFiles].sort())
  })
})

/* global console, process */
// Checks that the workspace's package graph is honest, so turbo's hashes cover what each task reads: no path that
// leaves a package, no import of an undeclared @matrix-backup package, no cycle. Usage: node scripts/check-package-graph.mjs [root]
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, extname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."))
const SCOPE = "@matrix-backup/"
const SOURCE = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx"])
const SKIP = new Set(["node_modules", "dist", "dist-bench", ".turbo", "test-results"])
const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies"]

const readJson = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined)
const rel = (path) => relative(root, path).split(sep).join("/")
const lineOf = (text, index) => text.slice(0, index).split("\n").length
const inside = (dir, path) => path === dir || path.startsWith(dir + sep)

/** The workspace packages: every packages/* and apps/* folder with a package.json, and examples/. */
const packageAt = (folder) => {
  const manifestPath = join(folder, "package.json")
  return { folder, manifestPath, manifestText: readFileSync(manifestPath, "utf8"), manifest: readJson(manifestPath) }
}
const packages = ["packages", "apps"].flatMap((group) => {
  const dir = join(root, group)
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "package.json")))
    .map((entry) => packageAt(join(dir, entry.name)))
}).concat(existsSync(join(root, "examples", "package.json")) ? [packageAt(join(root, "examples"))] : [])
const byName = new Map(packages.map((p) => [p.manifest.name, p]))

/** Root files turbo hashes for a package's tasks: globalDependencies, and $TURBO_ROOT$ inputs of its turbo.json. */
const turboRoot = readJson(join(root, "turbo.json")) ?? {}
const hashedOutside = (pkg) => {
  const inputs = Object.values(readJson(join(pkg.folder, "turbo.json"))?.tasks ?? {}).flatMap((task) => task.inputs ?? [])
  const fromPackage = inputs.filter((i) => i.startsWith("$TURBO_ROOT$/")).map((i) => i.slice("$TURBO_ROOT$/".length))
  return new Set([...(turboRoot.globalDependencies ?? []), ...fromPackage].map((p) => resolve(root, p)))
}

/** Every source file of a folder, skipping dependencies and build output. */
const sourceFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : sourceFiles(path)
    return SOURCE.has(extname(entry.name)) ? [path] : []
  })

/**
 * Splits source text into code and string literals: `code` is the text with comments and the contents of strings,
 * template literals and regular expressions blanked (newlines kept, so offsets still give lines), and `strings`
 * holds each string literal with its offset. Code written inside a string is therefore never read as code.
 */
const scan = (text) => {
  let code = ""
  const strings = []
  let i = 0
  let last = ""
  const blank = (from, to) => text.slice(from, to).replace(/[^\n]/g, " ")
  while (i < text.length) {
    const c = text[i]
    const next = text[i + 1]
    if (c === "/" && (next === "/" || next === "*")) {
      const end = next === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2) + 2
      const stop = end === -1 || end === 1 ? text.length : end
      code += blank(i, stop)
      i = stop
    } else if (c === '"' || c === "'" || c === "`" || (c === "/" && /[(,=:[!&|?{};+\-*%<>~^]|^$/.test(last))) {
      let j = i + 1
      let inClass = false
      while (j < text.length && (text[j] !== c || inClass)) {
        if (text[j] === "\\") j++
        else if (c === "/" && text[j] === "[") inClass = true
        else if (c === "/" && text[j] === "]") inClass = false
        else if (c === "/" && text[j] === "\n") break
        j++
      }
      if (c !== "/") strings.push({ index: i, value: text.slice(i + 1, j) })
      code += c + blank(i + 1, j) + (j < text.length ? text[j] : "")
      i = j + 1
      last = c
    } else {
      code += c
      if (!/\s/.test(c)) last = c
      i++
    }
  }
  return { code, strings }
}

/** What comes right before a module specifier: `from`, `import`, `import(`, `require(`. */
const IMPORT_BEFORE = /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*$/
const RELATIVE = /^\.{1,2}(?:\/[^\s$]*)?$/
const REFERENCE = /^\s*\/\/\/\s*<reference\s+path\s*=\s*["']([^"']+)["']/gm

const offences = []
let fileCount = 0
for (const pkg of packages) {
  const allowed = hashedOutside(pkg)
  const declared = new Set(DEPENDENCY_FIELDS.flatMap((field) => Object.keys(pkg.manifest[field] ?? {})))
  const isAllowed = (target) => allowed.has(target) || allowed.has(target.replace(/\.(m|c)?js$/, ".$1ts"))
  for (const file of sourceFiles(pkg.folder)) {
    fileCount++
    const raw = readFileSync(file, "utf8")
    const { code, strings } = scan(raw)
    const leaves = (spec, index) => {
      const target = resolve(dirname(file), spec)
      if (!inside(pkg.folder, target) && !isAllowed(target)) {
        offences.push(`${rel(file)}:${lineOf(raw, index)}: path "${spec}" leaves ${rel(pkg.folder)} (import the package by name)`)
      }
    }
    for (const m of raw.matchAll(REFERENCE)) leaves(m[1], m.index)
    for (const { index, value } of strings) {
      if (RELATIVE.test(value)) leaves(value, index)
      if (!value.startsWith(SCOPE) || !IMPORT_BEFORE.test(code.slice(Math.max(0, index - 40), index))) continue
      const name = value.split("/").slice(0, 2).join("/")
      if (name !== pkg.manifest.name && !declared.has(name)) {
        offences.push(`${rel(file)}:${lineOf(raw, index)}: imports ${name}, which ${rel(pkg.manifestPath)} does not declare`)
      }
    }
  }
}

/** Workspace edges of the declared graph, each with the package.json line that declares it. */
const edges = new Map(
  packages.map((pkg) => {
    const targets = DEPENDENCY_FIELDS.flatMap((field) => Object.keys(pkg.manifest[field] ?? {})).filter((dep) => byName.has(dep) && dep !== pkg.manifest.name)
    const where = (dep) => `${rel(pkg.manifestPath)}:${lineOf(pkg.manifestText, pkg.manifestText.indexOf(`"${dep}"`))}`
    return [pkg.manifest.name, [...new Set(targets)].map((dep) => ({ dep, where: where(dep) }))]
  }),
)
const state = new Map()
const reported = new Set()
const visit = (name, path) => {
  state.set(name, "open")
  for (const { dep, where } of edges.get(name) ?? []) {
    if (state.get(dep) === "open") {
      const cycle = [...path.slice(path.findIndex((p) => p.name === dep)), { name, where }]
      const key = cycle.map((c) => c.name).sort().join(" ")
      if (!reported.has(key)) {
        reported.add(key)
        offences.push(`${where}: dependency cycle ${[...cycle.map((c) => c.name), dep].join(" -> ")} (declared at ${cycle.map((c) => c.where).join(", ")})`)
      }
    } else if (state.get(dep) === undefined) visit(dep, [...path, { name, where }])
  }
  state.set(name, "done")
}
for (const name of edges.keys()) if (state.get(name) === undefined) visit(name, [])

if (offences.length > 0) {
  console.error(offences.join("\n"))
  console.error(`package graph: ${offences.length} offence${offences.length === 1 ? "" : "s"}`)
  process.exit(1)
}
const edgeCount = [...edges.values()].reduce((n, list) => n + list.length, 0)
console.log(`package graph OK: ${packages.length} packages, ${fileCount} source files, ${edgeCount} workspace dependencies, no path leaves a package, no undeclared import, no cycle`)

/* global console, process */
// Builds the API reference of every published package from its TSDoc comments (TypeDoc) into docs/api/, and fails on
// a broken link or an exported declaration without documentation. The entry points are the packages' `exports`, so
// a new package or subpath is covered without touching this file; modules carry their import names.
// Usage: node scripts/api-docs.mjs [--check]   (--check validates without writing HTML)
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { Application, Comment, Converter, ReflectionKind } from "typedoc"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const check = process.argv.includes("--check")

/** Every published package's import names and source files; side-effect-only entries (worker mains) have no API. */
const entryPoints = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")))
  .flatMap((entry) => {
    const dir = join(root, "packages", entry.name)
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    if (manifest.private === true) return []
    const sideEffects = new Set(Array.isArray(manifest.sideEffects) ? manifest.sideEffects.map((p) => resolve(dir, p)) : [])
    return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => {
      const source = typeof target === "object" && target !== null ? target["@matrix-backup/source"] : undefined
      if (typeof source !== "string" || sideEffects.has(resolve(dir, source))) return []
      return [{ pkg: manifest.name, name: subpath === "." ? manifest.name : manifest.name + subpath.slice(1), file: resolve(dir, source) }]
    })
  })
const nameOf = new Map(entryPoints.map((e) => [e.file, e.name]))

const app = await Application.bootstrap({
  name: "matrix-backup",
  entryPoints: entryPoints.map((e) => e.file),
  tsconfig: join(root, "tsconfig.typedoc.json"),
  out: join(root, "docs/api"),
  readme: "none",
  excludePrivate: true,
  excludeInternal: true,
  disableSources: true,
  // Type errors are tsc's job (`pnpm typecheck`); this run checks documentation only.
  skipErrorChecking: true,
  validation: { notExported: true, invalidLink: true, invalidPath: true, rewrittenLink: true, notDocumented: true },
  // Every exported declaration and every method; properties are left to their types' comments, as fields of
  // schema-derived types are inferred and carry no comment of their own.
  requiredToBeDocumented: ["Namespace", "Enum", "EnumMember", "Variable", "Function", "Class", "Interface", "TypeAlias", "Method"],
  packagesRequiringDocumentation: [...new Set(entryPoints.map((e) => e.pkg))],
  treatWarningsAsErrors: true,
  logLevel: "Warn",
})

// Name each entry module as it is imported (`@matrix-backup/testkit/JsSdk`), not by its path in the repository.
app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
  if (!reflection.kindOf(ReflectionKind.Module)) return
  const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName
  const name = file === undefined ? undefined : nameOf.get(resolve(file))
  if (name !== undefined) reflection.name = name
})

/** A file's opening comment (one `/** … *\/` block or a run of `//` lines): STYLE.md has every file say what it is for. */
const openingComment = (text) => {
  const block = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text)
  const lines = block === null ? (/^(?:\s*\/\/.*\n)+/.exec(text)?.[0] ?? "").split("\n").map((l) => l.replace(/^\s*\/\/ ?/, "")) : block[1].split("\n").map((l) => l.replace(/^\s*\* ?/, ""))
  const summary = lines.join("\n").trim()
  return summary === "" ? undefined : summary
}

// A namespace (`export * as X from "./X.js"`) is documented by its file's opening comment.
app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
  if (!reflection.kindOf(ReflectionKind.Namespace) || reflection.hasComment()) return
  const declaration = context.getSymbolFromReflection(reflection)?.declarations?.find((d) => d.kind === ts.SyntaxKind.SourceFile)
  const summary = declaration === undefined ? undefined : openingComment(declaration.getFullText())
  if (summary !== undefined) reflection.comment = new Comment([{ kind: "text", text: summary }])
})

// Members of anonymous types that TypeScript infers (an Effect tagged enum's `$match` cases) have no source to comment.
const warn = app.logger.validationWarning.bind(app.logger)
app.logger.validationWarning = (message, ...rest) => {
  if (/\.__type\..* does not have any documentation/.test(String(message))) return
  warn(message, ...rest)
}

const project = await app.convert()
if (project === undefined) process.exit(1)
app.validate(project)
if (!check && app.logger.hasErrors() === false) await app.generateDocs(project, join(root, "docs/api"))
if (app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.error(`API reference: ${app.logger.errorCount} errors, ${app.logger.warningCount} warnings (see above)`)
  process.exit(1)
}
console.log(check ? `API reference: ${entryPoints.length} entry points documented` : `API reference written to docs/api/index.html (${entryPoints.length} entry points)`)

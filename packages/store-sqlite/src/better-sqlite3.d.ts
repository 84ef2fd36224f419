// The part of better-sqlite3's API this adapter uses (the package ships no types; rows come back
// as `unknown` and are checked by type guards).
declare module "better-sqlite3" {
  interface RunResult {
    readonly changes: number
    readonly lastInsertRowid: number | bigint
  }
  interface Statement {
    run(...params: ReadonlyArray<unknown>): RunResult
    get(...params: ReadonlyArray<unknown>): unknown
    all(...params: ReadonlyArray<unknown>): Array<unknown>
    raw(toggle?: boolean): this
    pluck(toggle?: boolean): this
  }
  interface Transaction<Args extends ReadonlyArray<unknown>, R> {
    (...args: Args): R
    deferred(...args: Args): R
    immediate(...args: Args): R
  }
  interface Options {
    readonly readonly?: boolean
    readonly fileMustExist?: boolean
    readonly timeout?: number
  }
  interface Database {
    readonly open: boolean
    readonly inTransaction: boolean
    prepare(sql: string): Statement
    exec(sql: string): this
    pragma(source: string, options?: { readonly simple?: boolean }): unknown
    transaction<Args extends ReadonlyArray<unknown>, R>(fn: (...args: Args) => R): Transaction<Args, R>
    close(): this
  }
  const Database: new (filename: string, options?: Options) => Database
  export default Database
  export type { Database as DatabaseType, Statement, RunResult, Transaction }
}

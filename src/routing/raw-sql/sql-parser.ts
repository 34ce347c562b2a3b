import { createRequire } from "node:module";
import type { ParseResult } from "libpg-query";

export type { ParseResult } from "libpg-query";

/** Parses SQL into PostgreSQL's raw parse tree; throws on a syntax error or an empty string. */
export type ParseSql = (sql: string) => ParseResult;

let loading: Promise<ParseSql> | undefined;

/**
 * PostgreSQL's own parser: `libpg-query`, the server's `raw_parser()` compiled to WebAssembly (no
 * native build). Loaded when first asked for (the raw-query classifier asks at `createDb()`), not
 * at import: compiling its 1.7 MB of WebAssembly takes ~50 ms, off the main thread mostly. Once
 * loaded, parsing is synchronous. The package ships CommonJS only (its `module` field is for
 * bundlers), hence `require`, in our ESM and CommonJS builds alike.
 *
 * V8 compiles each WebAssembly function on its first call, on the main thread: the first parse
 * takes ~0.1–0.2 s (the grammar), later ones microseconds. The load pays that with one parse, so
 * the process's first raw query does not.
 *
 * @example
 * const parse = await loadSqlParser();
 * parse("SELECT 1").stmts.length; // 1
 */
export function loadSqlParser(): Promise<ParseSql> {
  loading ??= load();
  return loading;
}

async function load(): Promise<ParseSql> {
  const libpgQuery = createRequire(import.meta.url)("libpg-query") as typeof import("libpg-query");
  await libpgQuery.loadModule();
  libpgQuery.parseSync("SELECT 1");
  return libpgQuery.parseSync;
}

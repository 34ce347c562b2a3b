import { createRequire } from "node:module";
import type * as PgModule from "pg";

type AdapterPgModule = typeof import("@prisma/adapter-pg");

/**
 * `@prisma/adapter-pg` and the very `pg` it uses. PrismaPg only adopts a pool that is
 * `instanceof` its own `pg.Pool`; a pool from another copy of `pg` would be taken for a config
 * object, so the pool must come from the adapter's copy.
 */
export interface Driver {
  readonly PrismaPg: AdapterPgModule["PrismaPg"];
  readonly pg: typeof PgModule;
}

let loaded: Driver | undefined;

export function loadDriver(): Driver {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const adapterPath = require.resolve("@prisma/adapter-pg");
  const adapter = require(adapterPath) as AdapterPgModule;
  const pg = createRequire(adapterPath)("pg") as typeof PgModule;
  loaded = { PrismaPg: adapter.PrismaPg, pg };
  return loaded;
}

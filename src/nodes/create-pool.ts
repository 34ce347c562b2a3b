import type { Pool } from "pg";
import type { ConnectionSettings } from "../config/connection-url.js";
import { loadDriver } from "./driver.js";

/**
 * A `pg` pool that honours Prisma's URL parameters. pg-pool has one timeout for both waiting for
 * a free connection and opening one, so the pool carries `pool_timeout` and the client class
 * carries `connect_timeout`.
 */
export function createPool(settings: ConnectionSettings, nodeName: string, onIdleError: (error: Error) => void): Pool {
  const { pg } = loadDriver();
  const connectTimeoutMs = settings.connectTimeoutMs;
  class NodeClient extends pg.Client {
    constructor(config: PgClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
    }
  }
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.poolMax,
    connectionTimeoutMillis: settings.poolTimeoutMs,
    // Visible in pg_stat_activity; a user's own application_name in the URL wins.
    fallback_application_name: `prisma-split/${nodeName}`,
    ...(settings.schema === undefined ? {} : { options: `-c search_path="${settings.schema}"` }),
    Client: NodeClient,
  } as unknown as PgPoolConfig);
  // An idle client's error (server restart, network cut) is emitted on the pool; without a
  // listener Node would crash the process.
  pool.on("error", onIdleError);
  return pool;
}

type PgClientConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Client"]>[0] & object;
type PgPoolConfig = ConstructorParameters<ReturnType<typeof loadDriver>["pg"]["Pool"]>[0];

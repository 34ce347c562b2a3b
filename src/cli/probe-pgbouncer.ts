import type { ConnectionSettings } from "../config/connection-url.js";
import { loadDriver } from "../pool/driver.js";
import { ownConnectionConfig } from "../pool/pool-config.js";
import { serverNumber, serverQuery } from "../pool/server-text.js";

/** PgBouncer's own limits, from its admin console (`SHOW CONFIG`). */
export interface PgBouncerLimits {
  /** Client connections it accepts in all (every database, every app). */
  readonly maxClientConn: number;
  /** Server connections it opens per database and user pair, unless the database sets its own `pool_size`. */
  readonly defaultPoolSize: number | undefined;
  /** Extra server connections per pair when clients wait. */
  readonly reservePoolSize: number | undefined;
}

/**
 * Asks the PgBouncer a node's URL reaches for its limits, on its admin console (the `pgbouncer`
 * database of the same address), as the node's user. PgBouncer answers only users listed in its
 * `admin_users` or `stats_users`; an app's role usually is not, and the refusal is returned as it
 * is, for the report to say so. `SHOW max_client_conn` through the app's database would not do:
 * PgBouncer hands it to the server, which knows no such setting.
 */
export async function readPgBouncerLimits(
  settings: ConnectionSettings,
  connectTimeoutMs: number,
): Promise<PgBouncerLimits> {
  const { pg } = loadDriver();
  const url = new URL(settings.connectionString);
  url.pathname = "/pgbouncer";
  // The node's own driver settings (a password function, an ssl object), as its pool logs in.
  const client = new pg.Client({
    ...ownConnectionConfig(url.toString(), settings.driver),
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "prisma-split/doctor",
  } as never);
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; value: string }>(serverQuery("SHOW CONFIG"));
    const setting = (key: string) => serverNumber(rows.find((row) => row.key === key)?.value);
    const maxClientConn = setting("max_client_conn");
    if (maxClientConn === undefined) throw new Error("SHOW CONFIG gave no max_client_conn");
    return {
      maxClientConn,
      defaultPoolSize: setting("default_pool_size"),
      reservePoolSize: setting("reserve_pool_size"),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

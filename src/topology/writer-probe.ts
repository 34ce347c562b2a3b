import type { ConnectionSettings } from "../config/connection-url.js";
import { loadDriver } from "../pool/driver.js";
import { ownConnectionConfig } from "../pool/pool-config.js";
import { serverBoolean, serverQuery } from "../pool/server-text.js";

/** Asked of each candidate; its answer parsed by prisma-split (server-text.ts), never by pg's global parsers. */
export const IN_RECOVERY_SQL = "SELECT pg_is_in_recovery() AS in_recovery";

/** What one candidate said when asked whether it takes writes. */
export type CandidateRole = "primary" | "replica" | "unreachable";

export interface CandidateAnswer {
  readonly settings: ConnectionSettings;
  readonly role: CandidateRole;
}

/**
 * Asks each candidate server `pg_is_in_recovery()` on a connection of its own, all at once, each
 * bounded by `timeoutMs`. A fresh connection, not one of the node's pool: a DNS name is resolved
 * anew, and a pool full of connections to the old writer does not answer for the new one.
 */
export function askCandidates(
  candidates: readonly ConnectionSettings[],
  timeoutMs: number,
): Promise<CandidateAnswer[]> {
  return Promise.all(candidates.map(async (settings) => ({ settings, role: await askOne(settings, timeoutMs) })));
}

async function askOne(settings: ConnectionSettings, timeoutMs: number): Promise<CandidateRole> {
  const { pg } = loadDriver();
  // Logs in as the node's pool does: an IAM token's password function, an ssl object.
  const client = new pg.Client({
    ...ownConnectionConfig(settings.connectionString, settings.driver),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    fallback_application_name: "prisma-split/topology",
  });
  client.on("error", () => {}); // a server going away mid-probe must not crash the process
  try {
    await client.connect();
    const { rows } = await client.query<{ in_recovery: string }>(serverQuery(IN_RECOVERY_SQL));
    return serverBoolean(rows[0]?.in_recovery) === false ? "primary" : "replica";
  } catch {
    return "unreachable";
  } finally {
    client.end().catch(() => {});
  }
}

import type pg from "pg";
import { loadDriver } from "../pool/driver.js";

/**
 * A connected client on `url`. The `pg` is @prisma/adapter-pg's own copy (a peer dependency of
 * prisma-split), so the dev cluster needs no database driver of its own.
 */
export async function connect(url: string, connectTimeoutMs = 5000): Promise<pg.Client> {
  const client = new (loadDriver().pg.Client)({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  // Without a listener, a server dying mid-query would also crash the process via an 'error' event.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Runs one statement on a fresh connection and returns its rows. */
export async function queryOnce<Row extends Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = await connect(url);
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** How clients reach a dev node: user postgres, no password (trust authentication). */
export function nodeUrl(host: string, port: number, database: string): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `postgresql://postgres@${hostPart}:${port}/${encodeURIComponent(database)}`;
}

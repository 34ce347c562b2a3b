import type { SplitEventMap } from "../../src/events.ts";
import { isDatabaseUnavailable } from "../../src/index.ts";
import type { PgNode } from "../cluster/index.ts";
import type { TestDb } from "./harness.ts";

/**
 * Every SQLSTATE an error carries, wherever the layers put it: pg's `code` (with `severity`),
 * the adapter's `originalCode`, Prisma's `meta.driverAdapterError`, `cause`s. Prisma's own
 * codes (P2010, ...) are not SQLSTATEs and are left out.
 */
export function sqlStatesIn(error: unknown): string[] {
  const states = new Set<string>();
  const seen = new Set<object>();
  const visit = (value: unknown, depth: number) => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 6) return;
    seen.add(value);
    const shape = value as Record<string, unknown>;
    if (typeof shape.originalCode === "string") states.add(shape.originalCode);
    if (typeof shape.code === "string" && ("severity" in shape || shape.kind === "postgres")) states.add(shape.code);
    for (const key of Object.keys(shape)) visit(shape[key], depth + 1);
    visit(shape.cause, depth + 1);
  };
  visit(error, 0);
  return [...states];
}

/**
 * How one call ended, in a word a test can compare: `ok`, `503 <reason>`, a SQLSTATE the error
 * carries (`57014`), or `other: <message>` (shown in full when an assertion fails).
 */
export function outcomeOf(result: PromiseSettledResult<unknown>, states: readonly string[] = ["57014"]): string {
  if (result.status === "fulfilled") return "ok";
  const error = result.reason as Error;
  if (isDatabaseUnavailable(error)) return `503 ${error.reason}`;
  const state = states.find((candidate) => sqlStatesIn(error).includes(candidate));
  return state ?? `other: ${error?.name}: ${String(error?.message).trim()}`;
}

/** Statements running right now on `node` whose text contains `marker` (this probe excepted). */
export async function activeStatements(node: PgNode, marker: string): Promise<number> {
  const rows = await node.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity " +
      "WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0",
    [marker],
  );
  return rows[0]?.n ?? 0;
}

export type EventName = keyof SplitEventMap;

/** Every event of `names` that `db` emits from now on, as `<name> <node>` (and the query's error, if any). */
export function recordEvents(db: TestDb, names: readonly EventName[]): string[] {
  const seen: string[] = [];
  for (const name of names) {
    db.$events.on(name, (payload: unknown) => {
      const { node, error } = payload as { node?: string; error?: unknown };
      seen.push([name, node, error === undefined ? undefined : "failed"].filter(Boolean).join(" "));
    });
  }
  return seen;
}

/** The failure-handling events: none of them may fire for a query's own outcome. */
export const RESILIENCE_EVENTS: readonly EventName[] = [
  "retry",
  "breaker:open",
  "breaker:halfOpen",
  "breaker:close",
  "shed",
  "fallback",
];

/** One turn of the event loop: listeners that run when a call settles have run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

import path from "node:path";
import type { ClusterBackend } from "../dev-cluster/types.js";

/** The lines to put in `.env`: exactly what createDb() reads by default. */
export function envLines(primaryUrl: string, replicaUrls: readonly string[]): string[] {
  return [`DATABASE_URL=${primaryUrl}`, `DATABASE_REPLICA_URLS=${replicaUrls.join(",")}`];
}

export interface NodeStatus {
  name: string;
  url: string;
  /** From the primary's pg_stat_replication, e.g. "streaming"; undefined for the primary. */
  replication?: string;
}

export interface ClusterReport {
  backend: ClusterBackend;
  serverVersion: string;
  nodes: NodeStatus[];
  /** undefined: migrations were not asked for or there was no directory. */
  migrations: { dir: string; applied: string[] } | undefined;
  cwd: string;
}

function hostAndPort(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port}`;
}

function describeMigrations(report: ClusterReport): string {
  if (!report.migrations) return "migrations: none applied (no ./prisma/migrations, or --no-migrate)";
  const dir = path.relative(report.cwd, report.migrations.dir) || ".";
  const { applied } = report.migrations;
  if (applied.length === 0) return `migrations: none found in ${dir}`;
  return `migrations: ${applied.length} applied from ${dir} (${applied.join(", ")})`;
}

/** The short status shown above the `.env` lines. */
export function statusLines(report: ClusterReport): string[] {
  const replicas = report.nodes.length - 1;
  const width = Math.max(...report.nodes.map((node) => node.name.length));
  return [
    `prisma-split dev cluster (${report.backend}): PostgreSQL ${report.serverVersion}, ` +
      `a primary and ${replicas} streaming replica${replicas === 1 ? "" : "s"}`,
    ...report.nodes.map((node) =>
      `  ${node.name.padEnd(width)}  ${hostAndPort(node.url)}  ${node.replication ?? "read-write"}`.trimEnd(),
    ),
    `  ${describeMigrations(report)}`,
  ];
}

export const readyLine = "Ready. Put the lines above in .env. Ctrl-C stops the cluster and deletes its data.";

import type { DoctorNode, DoctorReport } from "./doctor.js";

const COLUMNS: ReadonlyArray<[header: string, cell: (node: DoctorNode) => string]> = [
  ["NODE", (node) => node.name],
  ["URL", (node) => node.url],
  ["ROLE CHECK", roleCell],
  ["VERSION", (node) => node.serverVersion?.split(" ")[0] ?? "-"],
  ["LATENCY", (node) => (node.latencyMs === undefined ? "-" : `${node.latencyMs.toFixed(1)} ms`)],
  ["LAG", lagCell],
  ["MAX_CONN", (node) => (node.maxConnections === undefined ? "-" : `${node.connections}/${node.maxConnections} used`)],
  ["POOL MATH (instances x limit = planned / budget)", poolCell],
];

/** The report as a plain-text table, then the problems (ASCII only: it ends up in CI logs). */
export function formatReport(report: DoctorReport): string {
  const rows = [
    COLUMNS.map(([header]) => header),
    ...report.nodes.map((node) => COLUMNS.map(([, cell]) => cell(node))),
  ];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] as number))
      .join("  ")
      .trimEnd(),
  );
  const replicas = report.nodes.length - 1;
  const header =
    `prisma-split doctor: 1 primary, ${replicas} replica${replicas === 1 ? "" : "s"}, ` +
    `${report.instances} instance${report.instances === 1 ? "" : "s"} (--instances / PRISMA_SPLIT_INSTANCES)`;
  const verdict = report.ok
    ? ["OK: no problems found"]
    : [
        `${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}:`,
        ...report.problems.map((p) => `  - ${p}`),
      ];
  const notes = report.notes.length === 0 ? [] : ["", "Notes:", ...report.notes.map((note) => `  - ${note}`)];
  return [header, "", ...lines, "", ...verdict, ...notes].join("\n");
}

function roleCell(node: DoctorNode): string {
  if (!node.reachable) return "UNREACHABLE";
  return node.roleCheck === "ok" ? `${node.role} ok` : `MISMATCH (is ${node.actualRole})`;
}

function lagCell(node: DoctorNode): string {
  if (node.role === "primary" || !node.reachable) return "-";
  const bytes = node.lagBytes === undefined ? "?" : `${node.lagBytes} B`;
  const ms = node.lagMs === undefined ? "?" : `${node.lagMs} ms`;
  return `${bytes}, ${ms}`;
}

function poolCell(node: DoctorNode): string {
  const plan = node.plan;
  if (plan === undefined) return node.pgbouncer === undefined ? "-" : "PgBouncer: not checked (see notes)";
  const verdict = plan.fits ? "ok" : `OVER (use ${plan.recommendedConnectionLimit})`;
  const of = node.pgbouncer === undefined ? "" : " PgBouncer clients";
  return `${plan.instances} x ${plan.perInstance} = ${plan.planned} / ${plan.budget}${of} ${verdict}`;
}

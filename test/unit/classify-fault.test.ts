import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "../../src/errors.ts";
import { classifyFault, type FaultKind } from "../../src/resilience/classify-fault.ts";
import { capturedError, capturedFaults } from "../fixtures/faults/index.ts";

// Every row is an error Prisma 7.10 + adapter-pg (or pg, or opossum) really threw on a real
// cluster, captured by test/fixtures/faults/capture-faults.ts; none is made up here.
const table: ReadonlyArray<[id: string, kind: FaultKind, retryable: boolean, notSent: boolean]> = [
  // infrastructure, the statement never reached a server: even a write may be re-sent
  ["connection-refused", "infrastructure", true, true],
  ["transaction-connection-refused", "infrastructure", true, true],
  ["server-down", "infrastructure", true, true],
  ["pool-acquire-timeout", "infrastructure", true, true],
  ["connect-timeout", "infrastructure", true, true],
  ["pool-timeout-while-connecting", "infrastructure", true, true],
  ["cannot-connect-now-57P03", "infrastructure", true, true],
  ["immediate-shutdown-mid-query", "infrastructure", true, true],
  ["too-many-connections-53300", "infrastructure", true, true],
  // infrastructure, the statement may have run: reads retried, writes not
  ["admin-shutdown-57P01", "infrastructure", true, false],
  ["connection-terminated-unexpectedly", "infrastructure", true, false],
  ["crash-restart-bystander", "infrastructure", true, false],
  ["read-only-standby-25006", "infrastructure", true, false],
  ["read-only-standby-raw-25006", "infrastructure", true, false],
  ["opossum-timeout", "infrastructure", true, false],
  // a statement that ran out of time counts against the node but is not re-run
  ["statement-timeout-57014", "infrastructure", false, false],
  // query errors: never retried, never trip a breaker
  ["unique-violation-P2002", "query", false, false],
  ["raw-unique-violation-23505", "query", false, false],
  ["foreign-key-P2003", "query", false, false],
  ["record-not-found-P2025", "query", false, false],
  ["find-or-throw-P2025", "query", false, false],
  ["validation-error", "query", false, false],
  ["undefined-table-42P01", "query", false, false],
  ["syntax-error-42601", "query", false, false],
  ["division-by-zero-22012", "query", false, false],
  ["unknown-role-28000", "query", false, false],
  ["unknown-database-3D000", "query", false, false],
  ["deadlock-40P01", "query", false, false],
  // opossum's own refusals
  ["opossum-open", "refusal", false, true],
  ["opossum-shutdown", "refusal", false, true],
];

describe("classifyFault on errors captured from a real cluster", () => {
  it.each(table)("%s → %s (retryable %s, not sent %s)", (id, kind, retryable, notSent) => {
    const fault = classifyFault(capturedError(id));
    expect({ kind: fault.kind, retryable: fault.retryable, notSent: fault.notSent }).toEqual({
      kind,
      retryable,
      notSent,
    });
  });

  it("covers every captured fault (a new capture needs a row here)", () => {
    const captured = Object.entries(capturedFaults)
      .filter(([, fault]) => fault.error !== null)
      .map(([id]) => id);
    expect(table.map(([id]) => id).sort()).toEqual(captured.sort());
  });

  it("reads the SQLSTATE before Prisma's code: P2010 with 57P01 inside is infrastructure, with 42601 a query error", () => {
    const terminated = capturedError("admin-shutdown-57P01") as Error & { code: string };
    const syntax = capturedError("syntax-error-42601") as Error & { code: string };
    expect([terminated.code, syntax.code]).toEqual(["P2010", "P2010"]);
    expect(classifyFault(terminated).label).toBe("server shut down the connection (admin_shutdown), sqlstate 57P01");
    expect(classifyFault(syntax).label).toBe("sqlstate 42601");
  });

  it("treats prisma-split's own 503 errors as refusals, and unknown values as query errors", () => {
    const refusal = new DatabaseUnavailableError("open", { role: "primary", reason: "breaker-open" });
    expect(classifyFault(refusal)).toMatchObject({ kind: "refusal", retryable: false });
    expect(classifyFault(new Error("something else"))).toMatchObject({ kind: "query", retryable: false });
    expect(classifyFault("a string")).toMatchObject({ kind: "query" });
    expect(classifyFault(undefined)).toMatchObject({ kind: "query" });
  });
});

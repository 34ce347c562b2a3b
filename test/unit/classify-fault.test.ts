import { describe, expect, it } from "vitest";
import { PasswordFunctionError } from "../../src/config/password-function.ts";
import { DatabaseUnavailableError } from "../../src/errors.ts";
import { markUnansweredCommit } from "../../src/pool/connection-reuse.ts";
import { classifyFault, type FaultKind, UNANSWERED_COMMIT, verdictOn } from "../../src/resilience/classify-fault.ts";
import { capturedError, capturedFaults } from "../fixtures/faults/index.ts";

// Every row is an error Prisma 7.10 + adapter-pg (or pg, or opossum) really threw on a real
// cluster, captured by test/fixtures/faults/capture-faults.ts; none is made up here.
const table: ReadonlyArray<[id: string, kind: FaultKind, maybeSent: boolean]> = [
  // the node is sick, the statement never reached a server: even a write may be re-sent
  ["connection-refused", "node", false],
  ["transaction-connection-refused", "node", false],
  ["server-down", "node", false],
  ["connect-timeout", "node", false],
  ["pool-timeout-while-connecting", "node", false],
  ["cannot-connect-now-57P03", "node", false],
  ["immediate-shutdown-mid-query", "node", false],

  // the node is sick, the statement may have run: reads retried, writes not
  ["admin-shutdown-57P01", "node", true],
  ["connection-terminated-unexpectedly", "node", true],
  ["crash-restart-bystander", "node", true],
  // no connection freed up within pool_timeout: load, not sickness; never sent
  ["pool-acquire-timeout", "overloaded", false],
  // the server refused the login: too many connections; it serves its others
  ["too-many-connections-53300", "overloaded", false],
  // a transaction that could not begin within maxWait: nothing of it ran
  ["transaction-start-timeout-P2028", "overloaded", false],
  // a write on a standby: a misroute on a replica, a demoted primary on the primary
  ["read-only-standby-25006", "read-only", true],
  ["read-only-standby-raw-25006", "read-only", true],
  // the query's own outcome: never retried, never trips a breaker; a statement the server
  // ended (57014) included
  ["statement-timeout-57014", "query", true],
  ["unique-violation-P2002", "query", true],
  ["raw-unique-violation-23505", "query", true],
  ["foreign-key-P2003", "query", true],
  ["record-not-found-P2025", "query", true],
  ["find-or-throw-P2025", "query", true],
  ["validation-error", "query", true],
  ["undefined-table-42P01", "query", true],
  ["syntax-error-42601", "query", true],
  ["division-by-zero-22012", "query", true],
  ["deadlock-40P01", "query", true],
  // configuration: permanent, never retried, never a 503
  ["unknown-role-28000", "configuration", false],
  ["unknown-database-3D000", "configuration", false],
  // opossum's own errors, which prisma-split no longer lets through (its timeout is off, refusals are
  // decided before opossum): an ETIMEDOUT reads as silence; the rest are unknown shapes
  ["opossum-timeout", "node", true],
  ["opossum-open", "query", true],
  ["opossum-shutdown", "query", true],
];

describe("classifyFault on errors captured from a real cluster", () => {
  it.each(table)("%s → %s (may have been sent: %s)", (id, kind, maybeSent) => {
    const fault = classifyFault(capturedError(id));
    expect({ kind: fault.kind, maybeSent: fault.maybeSent }).toEqual({ kind, maybeSent });
  });

  it("covers every captured fault (a new capture needs a row here)", () => {
    const captured = Object.entries(capturedFaults)
      .filter(([, fault]) => fault.error !== null)
      .map(([id]) => id);
    expect(table.map(([id]) => id).sort()).toEqual(captured.sort());
  });

  it("reads the SQLSTATE before Prisma's code: P2010 with 57P01 inside is a node fault, with 42601 a query error", () => {
    const terminated = capturedError("admin-shutdown-57P01") as Error & { code: string };
    const syntax = capturedError("syntax-error-42601") as Error & { code: string };
    expect([terminated.code, syntax.code]).toEqual(["P2010", "P2010"]);
    expect(classifyFault(terminated).label).toBe("server shut down the connection (admin_shutdown), sqlstate 57P01");
    expect(classifyFault(syntax).label).toBe("sqlstate 42601");
  });

  it("treats prisma-split's own 503 errors as refusals, and unknown values as query errors", () => {
    const refusal = new DatabaseUnavailableError("open", {
      role: "primary",
      reason: "breaker-open",
      outcome: "not-applied",
    });
    expect(classifyFault(refusal)).toMatchObject({ kind: "refusal", label: "breaker-open" });
    expect(classifyFault(new Error("something else"))).toMatchObject({ kind: "query" });
    expect(classifyFault("a string")).toMatchObject({ kind: "query" });
    expect(classifyFault(undefined)).toMatchObject({ kind: "query" });
  });
});

describe("classifyFault on a COMMIT that was sent and not answered", () => {
  it("is a node fault that may have been applied, wherever the marked error sits in the chain", () => {
    const timeout = new Error("Query read timeout");
    markUnansweredCommit(timeout);
    const wrapped = Object.assign(new Error("Transaction API error"), { cause: timeout });
    expect(classifyFault(wrapped)).toEqual({ kind: "node", maybeSent: true, label: UNANSWERED_COMMIT });
    // The same read timeout on another statement is no more than silence.
    expect(classifyFault(new Error("Query read timeout")).label).not.toBe(UNANSWERED_COMMIT);
  });
});

describe("classifyFault on configuration faults", () => {
  it("names what the server refused", () => {
    expect(classifyFault(capturedError("unknown-database-3D000"))).toMatchObject({ problem: "unknown-database" });
    expect(classifyFault(capturedError("unknown-role-28000"))).toMatchObject({ problem: "authentication" });
    const sslOff = Object.assign(
      new Error('no pg_hba.conf entry for host "10.0.0.1", user "app", database "app", SSL off'),
      {
        code: "28000",
        severity: "FATAL",
      },
    );
    expect(classifyFault(sslOff)).toMatchObject({ kind: "configuration", problem: "ssl" });
    // PostgreSQL 17+ says "no encryption"; Prisma's adapter keeps the server's words in originalMessage.
    const hostsslOnly = {
      kind: "DatabaseAccessDenied",
      originalCode: "28000",
      originalMessage: 'no pg_hba.conf entry for host "127.0.0.1", user "app", database "app", no encryption',
    };
    expect(classifyFault(new Error("denied", { cause: hostsslOnly }))).toMatchObject({
      kind: "configuration",
      problem: "ssl",
    });
    expect(classifyFault(new Error("The server does not support SSL connections"))).toMatchObject({ problem: "ssl" });
    const selfSigned = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(classifyFault(selfSigned)).toMatchObject({ kind: "configuration", problem: "ssl" });
  });

  it("a password function that failed: a configuration fault of the node's own, the server was not asked", () => {
    const thrown = new PasswordFunctionError("replica-0", "failed: Error: vault down", new Error("vault down"));
    const fault = classifyFault(thrown);
    expect(fault).toMatchObject({
      kind: "configuration",
      problem: "password-function",
      nodeLocal: true,
      maybeSent: false,
    });
    expect(fault.label).toBe("the password function of replica-0 failed: Error: vault down");
    expect(verdictOn(fault)).toBe("unknown");
  });

  it("a server that never answered (pg's read timeout, past statement_timeout) is a node fault", () => {
    expect(classifyFault(new Error("Query read timeout"))).toMatchObject({ kind: "node", maybeSent: true });
  });
});

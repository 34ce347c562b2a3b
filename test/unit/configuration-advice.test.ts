import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { classifyFault } from "../../src/resilience/classify-fault.ts";
import { configurationAdvice } from "../../src/resilience/configuration-advice.ts";

/** A server's refusal as pg raises it (the integration tests see the real ones through Prisma). */
const refusal = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

function advice(error: Error, url: string, extra: { statementBoundMs?: number; ssl?: object } = {}) {
  const parsed = parseConnectionUrl(url, "primaryUrl");
  const settings = {
    ...parsed,
    ...(extra.statementBoundMs === undefined ? {} : { statementBoundMs: extra.statementBoundMs }),
    ...(extra.ssl === undefined ? {} : { driver: { ssl: extra.ssl } }),
  };
  return configurationAdvice(classifyFault(error), error, settings);
}

describe("configurationAdvice: why a server refused, and what to change", () => {
  it("a startup parameter prisma-split sent to a PgBouncer: add pgbouncer=true", () => {
    const error = refusal("08P01", "unsupported startup parameter: statement_timeout");
    expect(advice(error, "postgresql://app@bouncer:6432/app", { statementBoundMs: 9_000 })).toMatch(
      /^the server is a PgBouncer, which refuses the startup parameter `statement_timeout`: add `pgbouncer=true`/,
    );
  });

  it("a startup parameter of the user's own (newer PgBouncer wording too): remove it", () => {
    const error = refusal("08P01", "unsupported startup parameter in options: work_mem");
    expect(advice(error, "postgresql://app@bouncer:6432/app?pgbouncer=true&options=-c%20work_mem%3D8MB")).toBe(
      "PgBouncer refuses the startup parameter `work_mem`, set in this node's URL or `pool` settings: remove it, " +
        "or list `work_mem` in PgBouncer's `ignore_startup_parameters`",
    );
  });

  it("sslmode=require with an untrusted certificate: pg verifies with require", () => {
    const error = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(advice(error, "postgresql://app@db/app?sslmode=require")).toMatch(
      /^`sslmode=require` verifies the certificate in pg .* \(self-signed certificate\): use `sslmode=no-verify`/,
    );
    // libpq's semantics asked for: the certificate was checked because of something else.
    expect(advice(error, "postgresql://app@db/app?sslmode=verify-full")).toMatch(
      /^the server's certificate is not trusted \(self-signed certificate\): give its CA/,
    );
  });

  it("a server that takes the role only over TLS, and one without TLS", () => {
    const hostssl = refusal(
      "28000",
      'no pg_hba.conf entry for host "10.0.0.1", user "app", database "app", no encryption',
    );
    expect(advice(hostssl, "postgresql://app@db/app")).toMatch(/^the server takes this connection only over TLS/);
    const noTls = new Error("The server does not support SSL connections");
    expect(advice(noTls, "postgresql://app@db/app?sslmode=require")).toMatch(/^the server does not accept TLS/);
  });
});

import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { asUser, createPasswordRole } from "./fixtures/auth.ts";
import { uniqueEmail, useCluster } from "./harness.ts";

/**
 * The `logger` option with pino on a real cluster: a primary killed under load and brought back,
 * a replica stopped and started, then shutdown. One line per transition, none per query, and the
 * password that is in the URLs is in no line.
 */
const { cluster, db } = useCluster(1);
const secret = "pino-must-not-see-this";

function pinoLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(text));
      done();
    },
  });
  return { logger: pino({ level: "info", base: undefined, timestamp: false }, stream), lines };
}

const messages = (lines: Record<string, unknown>[]) => lines.map((line) => `${line.level} ${line.msg}`);

describe("logger: pino", () => {
  it("logs a primary kill, its return, a replica's absence and the shutdown once each, without the password", async () => {
    await createPasswordRole(cluster(), "split_logged", secret);
    const withPassword = (url: string) => {
      const parsed = new URL(asUser(url, "split_logged"));
      parsed.password = secret;
      return parsed.toString();
    };
    const { logger, lines } = pinoLines();
    const app = db({
      primaryUrl: withPassword(cluster().primaryUrl),
      replicaUrls: [withPassword(cluster().replicaUrls[0] as string)],
      logger,
      breaker: { volumeThreshold: 1, consecutiveFailures: 2, resetTimeout: 300 },
      retry: false,
      replicas: { pollIntervalMs: 100 },
      shutdown: false,
    });
    await app.user.create({ data: { email: uniqueEmail("log") } });

    await cluster().primary.kill();
    const write = () => app.user.create({ data: { email: uniqueEmail("log") } }).catch(() => undefined);
    const writeThenRead = async () => {
      await write();
      return messages(lines);
    };
    await expect
      .poll(writeThenRead, { timeout: 15_000 })
      .toContain("40 primary: circuit breaker open, its calls fail fast");
    for (let i = 0; i < 20; i++) await write();
    await cluster().primary.start();
    await expect.poll(writeThenRead, { timeout: 15_000 }).toContain("30 primary: circuit breaker closed");

    await cluster().replicas[0]?.stop();
    await expect
      .poll(() => messages(lines), { timeout: 10_000 })
      .toContain("40 replica-0: out of read rotation, not answering");
    await cluster().replicas[0]?.start();
    await expect.poll(() => messages(lines), { timeout: 15_000 }).toContain("30 replica-0: back in read rotation");

    await app.$shutdown();
    console.log(`pino lines:\n${lines.map((line) => JSON.stringify(line)).join("\n")}`);
    const seen = messages(lines);
    expect(seen.filter((m) => m.endsWith("circuit breaker open, its calls fail fast"))).toHaveLength(
      seen.filter((m) => m.endsWith("circuit breaker closed")).length,
    );
    expect(
      seen.filter((m) => m === "40 primary: circuit breaker open, its calls fail fast").length,
    ).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toBe("30 shut down: clients and pools closed");
    expect(lines.every((line) => line.component === "prisma-split")).toBe(true);
    // Dozens of queries ran: none of them is a line.
    expect(lines.length).toBeLessThan(15);
    expect(JSON.stringify(lines)).not.toContain(secret);
  }, 60_000);
});

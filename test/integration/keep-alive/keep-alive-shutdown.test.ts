import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useCluster } from "../harness.ts";
import { type KeepAliveShutdownResult, runKeepAliveShutdown, SHUTDOWN_SUBJECTS } from "./keep-alive-shutdown.ts";

// The apps run with createDb()'s default shutdown.timeoutMs.
const TIMEOUT_MS = 10_000;
const logDir = mkdtempSync(path.join(os.tmpdir(), "prisma-split-keep-alive-"));

describe("SIGTERM under 16 keep-alive clients in a loop, each server in its own process (drainOnShutdown)", () => {
  const { cluster } = useCluster(1);
  afterAll(() => rmSync(logDir, { recursive: true, force: true }));

  it.each(SHUTDOWN_SUBJECTS.map((subject) => [subject.name, subject] as const))(
    "%s: every request written before the signal gets a status, later ones a 503 or a refused connection; the process ends by SIGTERM in time",
    async (_name, subject) => {
      const logFile = path.join(logDir, `${subject.name.replace(/\W+/g, "-")}.log`);
      const result = await runKeepAliveShutdown({
        subject,
        env: {
          DATABASE_URL: cluster().primaryUrl,
          DATABASE_REPLICA_URLS: cluster().replicaUrls.join(","),
          LOG_FILE: logFile,
        },
      });
      const context = describe_(result);

      expect(result.exit, context).toEqual({ code: null, signal: "SIGTERM" });
      expect(result.msToExit, context).toBeLessThan(TIMEOUT_MS + 1_000);
      // The positive signal that it ran: requests were served, and the app logged a full drain.
      expect(result.before.requests, context).toBeGreaterThan(0);
      expect(
        result.output.some((line) => /HTTP server closed in \d+ ms/.test(line)),
        context,
      ).toBe(true);
      expect(
        result.output.some((line) => line.includes("database: every in-flight query finished")),
        context,
      ).toBe(true);

      expect(result.before.errors, context).toEqual({});
      expect(result.meanwhile.errors, context).toEqual({});
      expect(result.after.errors, context).toEqual({});
      expect(
        Object.keys(result.after.statuses).filter((status) => status !== "503"),
        context,
      ).toEqual([]);
      expect(
        Object.keys(result.unsent.errors).filter((error) => error !== "ECONNREFUSED"),
        context,
      ).toEqual([]);

      if (subject.script.includes("node-http-app")) {
        // prisma-split's logger writes to a pino async destination: its last line survived the signal.
        expect(readFileSync(logFile, "utf8")).toContain('"msg":"shut down: clients and pools closed"');
      }
    },
    60_000,
  );
});

function describe_(result: KeepAliveShutdownResult): string {
  const { output, ...rest } = result;
  return `${JSON.stringify(rest)}\n${output.join("\n")}`;
}

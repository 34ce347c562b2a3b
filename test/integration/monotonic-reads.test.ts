import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ReplicaSelector, SelectionStrategy } from "../../src/config/options.ts";
import { expressConsistency, fastifyConsistency } from "../../src/index.ts";
import { type TestDb, uniqueEmail, useCluster } from "./harness.ts";

const HEADER = "x-consistency-token";

/** Takes the candidates in turn, as a user's own selector might. */
const alternating = (): ReplicaSelector => {
  let next = 0;
  return (candidates) => candidates[next++ % candidates.length]!;
};

const SELECTORS: Array<[string, () => SelectionStrategy | ReplicaSelector]> = [
  ["round-robin", () => "round-robin"],
  ["random", () => "random"],
  ["least-busy", () => "least-busy"],
  ["fastest", () => "fastest"],
  ["a custom selector", alternating],
];

// Two replicas at different positions: replay is paused on the second before a row is written,
// so the first has the row and the second does not, and both stay in rotation (no lag bound is
// near). A context that found the row and then did not has gone back in time.
describe("monotonic reads with two replicas at different replay positions", () => {
  const { cluster, db } = useCluster(2);
  const ahead = () => cluster().replicas[0]!;
  const behind = () => cluster().replicas[1]!;
  let email: string;

  beforeAll(async () => {
    await cluster().waitForReplicas();
    await cluster().pauseReplay(behind());
    email = uniqueEmail("monotonic");
    await cluster().primary.query("INSERT INTO users (email) VALUES ($1)", [email]);
    await vi.waitFor(
      async () => expect(await ahead().query("SELECT 1 FROM users WHERE email = $1", [email])).toHaveLength(1),
      { timeout: 10_000, interval: 50 },
    );
  });
  afterAll(async () => {
    await cluster().resumeReplay(behind());
  });

  const client = (select: SelectionStrategy | ReplicaSelector) =>
    db({ replicas: { select, pollIntervalMs: 100, maxLagMs: 600_000 } });
  const found = async (target: TestDb) => (await target.user.findUnique({ where: { email } })) !== null;

  /** Reads of one sequence, in order: how many came after one that found the row and did not. */
  function backInTime(results: boolean[]): number {
    let seen = false;
    let back = 0;
    for (const result of results) {
      if (seen && !result) back++;
      seen ||= result;
    }
    return back;
  }

  describe.each(SELECTORS)("%s", (_name, select) => {
    it("in one $withSession context, no read sees less than an earlier one", async () => {
      const target = client(select());
      await target.$connect();
      let back = 0;
      let contextsThatSawIt = 0;
      for (let context = 0; context < 16; context++) {
        const results = await target.$withSession(async () => {
          const seen: boolean[] = [];
          for (let read = 0; read < 6; read++) seen.push(await found(target));
          return seen;
        });
        back += backInTime(results);
        if (results.includes(true)) contextsThatSawIt++;
      }
      expect(contextsThatSawIt).toBeGreaterThan(0); // the row was there to be seen: the check can fail
      expect(back).toBe(0);
    });

    it("through the token, on another instance: a request after one that saw the row sees it", async () => {
      const first = client(select());
      const second = client(select());
      await Promise.all([first.$connect(), second.$connect()]);
      let carried = 0;
      let missed = 0;
      for (let round = 0; round < 16; round++) {
        const { saw, token } = await first.$withSession(async () => ({
          saw: await found(first),
          token: first.$consistencyToken(),
        }));
        if (!saw) continue;
        carried++;
        const later = await second.$withConsistency(token, async () => [await found(second), await found(second)]);
        missed += later.filter((result) => !result).length;
      }
      expect(carried).toBeGreaterThan(0);
      expect(missed).toBe(0);
    });
  });

  /** One app, whatever the framework: GET a user, with or without a token. */
  type Get = (token: string | undefined) => Promise<{ found: boolean; token: string | undefined }>;

  function expressApp(target: TestDb): { get: Get; close: () => Promise<void> } {
    const app = express();
    app.use(expressConsistency(target));
    app.get("/user", async (_req, res) => {
      res.json({ found: await found(target) });
    });
    const server = app.listen(0, "127.0.0.1");
    const listening = once(server, "listening");
    return {
      async get(token) {
        await listening;
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/user`, {
          headers: token === undefined ? {} : { [HEADER]: token },
        });
        const body = (await response.json()) as { found: boolean };
        return { found: body.found, token: response.headers.get(HEADER) ?? undefined };
      },
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  function fastifyApp(target: TestDb): { get: Get; close: () => Promise<void> } {
    const app = Fastify();
    app.register(fastifyConsistency(target));
    app.get("/user", async () => ({ found: await found(target) }));
    return {
      async get(token) {
        const response = await app.inject({
          method: "GET",
          url: "/user",
          headers: token === undefined ? {} : { [HEADER]: token },
        });
        const header = response.headers[HEADER];
        return { found: response.json().found, token: typeof header === "string" ? header : undefined };
      },
      close: () => app.close(),
    };
  }

  describe.each([
    ["Express", expressApp],
    ["Fastify", fastifyApp],
  ])("%s middleware", (_name, makeApp) => {
    it.each(["round-robin", "random"] as const)(
      "%s: requests carrying the token of one that saw the row see it too, on another instance",
      async (select) => {
        const one = makeApp(client(select));
        const other = makeApp(client(select));
        try {
          let carried = 0;
          let missed = 0;
          for (let round = 0; round < 12; round++) {
            const first = await one.get(undefined);
            if (!first.found) continue;
            carried++;
            let token = first.token;
            for (let request = 0; request < 3; request++) {
              const next = await (request % 2 === 0 ? other : one).get(token);
              if (!next.found) missed++;
              token = next.token ?? token;
            }
          }
          expect(carried).toBeGreaterThan(0);
          expect(missed).toBe(0);
        } finally {
          await Promise.all([one.close(), other.close()]);
        }
      },
    );
  });

  // Last: it stops the replica that is ahead (and starts it again).
  it("when the replica a context reads from leaves rotation, it reads on the primary, not on the replica behind", async () => {
    const prefersAhead: ReplicaSelector = (candidates) =>
      candidates.find((candidate) => candidate.name === "replica-0") ?? candidates[0]!;
    const target = client(prefersAhead);
    const other = client(prefersAhead);
    await Promise.all([target.$connect(), other.$connect()]);
    const down = new Set<string>();
    target.$events.on("replica:down", (event) => event.node === "replica-0" && down.add("target"));
    other.$events.on("replica:down", (event) => event.node === "replica-0" && down.add("other"));
    const reasons: string[] = [];
    target.$events.on("query", (event) => reasons.push(`${event.node}:${event.reason}`));
    try {
      await target.$withSession(async () => {
        expect(await found(target)).toBe(true);
        const token = target.$consistencyToken();
        await ahead().stop();
        // Both instances' monitors have taken it out of rotation.
        await vi.waitFor(() => expect(down).toEqual(new Set(["target", "other"])), { timeout: 15_000, interval: 50 });
        reasons.length = 0;
        expect(await found(target)).toBe(true);
        expect(reasons).toEqual(["primary:lsn"]);
        // The same through its token on another instance.
        expect(await other.$withConsistency(token, () => found(other))).toBe(true);
      });
    } finally {
      await ahead().start();
    }
  });
});

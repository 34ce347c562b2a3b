import { waitFor } from "./stack/daemon.ts";
import type { HaStack } from "./stack/ha-stack.ts";
import type { PatroniMember } from "./stack/patroni.ts";

/** How long the backend flip keeps the leader out of HAProxy's primary listener. */
const FLIP_MS = 2_000;

/** One fault of the chaos suite, played on a healthy stack whose leader is `leader`. */
export interface HaEvent {
  readonly name: string;
  run(stack: HaStack, leader: PatroniMember): Promise<void>;
}

/**
 * Where a planned move can go: under `synchronous_mode` Patroni refuses any candidate but the
 * synchronous standby (`412, candidate name does not match with sync_standby`).
 */
async function syncStandby(stack: HaStack): Promise<PatroniMember> {
  const row = (await stack.list()).find((status) => status.Role === "Sync Standby");
  if (row === undefined) throw new Error("no synchronous standby to move the leader to");
  return stack.member(row.Member);
}

/** Until `member` leads: patronictl returns before the old leader is back as a replica. */
function leads(stack: HaStack, member: PatroniMember): Promise<PatroniMember> {
  return waitFor(`${member.name} to lead`, async () => ((await stack.leader()) === member ? member : undefined), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
}

export const HA_EVENTS: readonly HaEvent[] = [
  {
    name: "switchover",
    run: async (stack, leader) => {
      const candidate = await syncStandby(stack);
      await stack.switchover(leader.name, candidate.name);
      await leads(stack, candidate);
    },
  },
  {
    name: "failover",
    run: async (stack) => {
      const candidate = await syncStandby(stack);
      await stack.failover(candidate.name);
      await leads(stack, candidate);
    },
  },
  {
    // Patroni restarts it in place: the same host takes writes again, a "same-host restart".
    name: "leader's postmaster killed",
    run: async (_stack, leader) => {
      leader.killPostmaster();
    },
  },
  {
    // The leader key expires after ttl, another member takes over; the killed one then starts
    // again and rejoins as a replica (pg_rewind).
    name: "leader's Patroni and postmaster killed",
    run: async (stack, leader) => {
      leader.killPatroniAndPostmaster();
      await waitFor(
        "another member to lead",
        async () => {
          const now = await stack.leader();
          return now !== undefined && now !== leader ? now : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      leader.start();
    },
  },
  {
    name: "restart (patronictl restart)",
    run: async (stack, leader) => {
      await stack.restart(leader.name);
    },
  },
  {
    // HAProxy takes the leader out of its primary listener, cutting its sessions (what a failed
    // check does with on-marked-down shutdown-sessions), and puts it back: the database never stops.
    name: "HAProxy backend flip",
    run: async (stack, leader) => {
      await stack.haproxy.setMaintenance("primary", leader.name, true);
      await new Promise((resolve) => setTimeout(resolve, FLIP_MS));
      await stack.haproxy.setMaintenance("primary", leader.name, false);
    },
  },
];

import type pg from "pg";
import { connect } from "../../src/dev-cluster/sql.ts";
import type { HaStack } from "./stack/ha-stack.ts";

/** What one look at a target found. */
export type TargetState = "writer" | "standby" | "down";

export interface WatchSample {
  readonly at: number;
  readonly target: string;
  readonly state: TargetState;
}

const PERIOD_MS = 100;
const TIMEOUT_MS = 1_000;

/** A target looked at on one connection kept open (a member) or on a new connection each time (an HAProxy port). */
class Target {
  #client: pg.Client | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly fresh: boolean,
  ) {}

  async look(): Promise<TargetState> {
    try {
      this.#client ??= await connect(this.url, TIMEOUT_MS);
      const { rows } = await this.#client.query<{ r: boolean }>({
        text: "SELECT pg_is_in_recovery() AS r",
        query_timeout: TIMEOUT_MS,
      } as pg.QueryConfig);
      return rows[0]?.r === false ? "writer" : "standby";
    } catch {
      this.close();
      return "down";
    } finally {
      if (this.fresh) this.close();
    }
  }

  close(): void {
    this.#client?.end().catch(() => {});
    this.#client = undefined;
  }
}

/**
 * Looks every 100 ms at which server takes writes: each member directly, and what a new connection
 * to HAProxy's primary and replica ports reaches, each target on a loop of its own (one slow to
 * answer delays no other). The suite measures from it when writes were possible again after an
 * event, at the database and at the endpoint an app is given.
 */
export class WriterWatch {
  readonly samples: WatchSample[] = [];
  readonly #targets: Target[];
  #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(stack: HaStack) {
    this.#targets = [
      ...stack.members.map((member) => new Target(member.name, member.url(), false)),
      new Target("haproxy-primary", stack.haproxyUrls.primary, true),
      new Target("haproxy-replicas", stack.haproxyUrls.replicas, true),
    ];
  }

  start(): void {
    this.#loops = this.#targets.map(async (target) => {
      while (!this.#stopped) {
        const began = performance.now();
        const state = await target.look();
        // When the answer came: the earliest moment the state is known to hold.
        const at = performance.now();
        this.samples.push({ at, target: target.name, state });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, PERIOD_MS - (at - began))));
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    for (const target of this.#targets) target.close();
  }

  /** After each sample of `targets`, which of them took writes as last seen (undefined: none). */
  #writerTimeline(targets: (name: string) => boolean): Array<{ at: number; writer: string | undefined }> {
    const latest = new Map<string, TargetState>();
    return this.samples
      .filter((sample) => targets(sample.target))
      .sort((a, b) => a.at - b.at)
      .map((sample) => {
        latest.set(sample.target, sample.state);
        const writer = [...latest].find(([, state]) => state === "writer")?.[0];
        return { at: sample.at, writer };
      });
  }

  /**
   * After `since`, the first moment writes were possible again on `where` ("members": any member
   * directly; "haproxy": through HAProxy's primary port) after they were not, or after they moved
   * to another member. Undefined when writes were possible throughout (as far as 100 ms looks see).
   */
  resumedAt(where: "members" | "haproxy", since: number): { outageAt: number; resumedAt: number } | undefined {
    const test =
      where === "members" ? (name: string) => /^m\d$/.test(name) : (name: string) => name === "haproxy-primary";
    const all = this.#writerTimeline(test);
    const before = all.filter((point) => point.at < since).at(-1)?.writer;
    let outageAt: number | undefined;
    for (const point of all.filter((p) => p.at >= since)) {
      if (outageAt === undefined) {
        if (point.writer === undefined) outageAt = point.at;
        else if (where === "members" && before !== undefined && point.writer !== before) {
          return { outageAt: point.at, resumedAt: point.at };
        }
      } else if (point.writer !== undefined) {
        return { outageAt, resumedAt: point.at };
      }
    }
    return undefined;
  }

  /** Spans (ms after `since`) in which a new connection to HAProxy's replica port reached a writer. */
  replicaPortWriterSpans(since: number): string[] {
    const spans: string[] = [];
    let start: number | undefined;
    let last = since;
    for (const sample of this.samples.filter((s) => s.target === "haproxy-replicas" && s.at >= since)) {
      if (sample.state === "writer") start ??= sample.at;
      else if (start !== undefined) {
        spans.push(`${Math.round(start - since)}–${Math.round(last - since)} ms`);
        start = undefined;
      }
      last = sample.at;
    }
    if (start !== undefined) spans.push(`${Math.round(start - since)}– ms`);
    return spans;
  }
}

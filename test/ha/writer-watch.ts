import type pg from "pg";
import { connect } from "../../src/dev-cluster/sql.ts";
import { type HaStack, WATCH_TABLE } from "./stack/ha-stack.ts";

/**
 * What one look at a target found: `writer`, a commit went through; `stalled`, not in recovery
 * but a commit did not come back in time (synchronous replication waiting for its standby);
 * `standby`; `down`.
 */
export type TargetState = "writer" | "stalled" | "standby" | "down";

/** When writes stopped, came back, and stayed (ms, `performance.now()`); see `WriterWatch.resumedAt`. */
export interface WriteWindow {
  readonly outageAt: number;
  readonly resumedAt: number;
  readonly steadyAt: number;
}

export interface WatchSample {
  readonly at: number;
  readonly target: string;
  readonly state: TargetState;
}

const PERIOD_MS = 100;
/** A look's connect and statement bound: on 2 busy cores a new connection can take over a second. */
const TIMEOUT_MS = 2_000;
/** Writes count as back steadily from the first look after which every look for this long found a writer. */
const STEADY_MS = 2_000;

/**
 * A target looked at on one connection kept open (a member) or on a new connection each time (an
 * HAProxy port). "Takes writes" means a commit comes back: under synchronous_mode a restarted
 * leader accepts connections and is out of recovery seconds before its standby reconnects and
 * commits complete.
 */
class Target {
  #client: pg.Client | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly fresh: boolean,
    readonly commits: boolean,
  ) {}

  async look(): Promise<TargetState> {
    const query = async <Row>(text: string) =>
      (await this.#client!.query({ text, query_timeout: TIMEOUT_MS } as pg.QueryConfig)).rows[0] as Row;
    try {
      this.#client ??= await connect(this.url, TIMEOUT_MS);
      const { r: inRecovery } = await query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
      if (inRecovery) return "standby";
      if (!this.commits) return "writer";
      try {
        // A row, not only an xid: a commit that wrote no WAL does not wait for the standby.
        await query(`INSERT INTO ${WATCH_TABLE} DEFAULT VALUES`);
        return "writer";
      } catch {
        this.close();
        return "stalled";
      }
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
 * Looks every 100 ms at which server takes writes (a commit comes back): each member directly, and
 * what a new connection to HAProxy's primary and replica ports reaches, each target on a loop of its own (one slow to
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
      ...stack.members.map((member) => new Target(member.name, member.url(), false, true)),
      new Target("haproxy-primary", stack.haproxyUrls.primary, true, true),
      new Target("haproxy-replicas", stack.haproxyUrls.replicas, true, false),
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
   * After `since`: when writes stopped being possible on `where` ("members": any member directly;
   * "haproxy": a new connection to HAProxy's primary port), or moved to another member
   * (`outageAt`); when they were possible again (`resumedAt`); and from when on they always were
   * (`steadyAt`: every look for the next 2 s found a writer; through HAProxy, new connections
   * alternate for a while between the new leader and a standby it has not yet marked down). Undefined when writes were possible throughout, as far as looks
   * 100 ms apart see.
   */
  resumedAt(where: "members" | "haproxy", since: number): WriteWindow | undefined {
    const test =
      where === "members" ? (name: string) => /^m\d$/.test(name) : (name: string) => name === "haproxy-primary";
    const all = this.#writerTimeline(test);
    const before = all.filter((point) => point.at < since).at(-1)?.writer;
    const after = all.filter((point) => point.at >= since);
    let outageAt: number | undefined;
    let resumedAt: number | undefined;
    for (const [i, point] of after.entries()) {
      if (outageAt === undefined) {
        // Two looks in a row without a writer: one alone may be a look that came too late.
        if (point.writer === undefined && after[i + 1]?.writer === undefined) outageAt = point.at;
        else if (where === "members" && before !== undefined && point.writer !== before) {
          outageAt = resumedAt = point.at;
          break;
        }
      } else if (point.writer !== undefined) {
        resumedAt = point.at;
        break;
      }
    }
    if (outageAt === undefined || resumedAt === undefined) return undefined;
    const from = resumedAt;
    const steady = after.find(
      (point) =>
        point.at >= from &&
        point.writer !== undefined &&
        after.every((later) => later.at < point.at || later.at > point.at + STEADY_MS || later.writer !== undefined),
    );
    return { outageAt, resumedAt, steadyAt: steady?.at ?? resumedAt };
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

import type { ConnectionSettings } from "../config/connection-url.js";
import { DatabaseUnavailableError } from "../errors.js";
import type { SplitEvents, TopologyTrigger } from "../events.js";
import type { DbNode } from "../nodes/db-node.js";
import { serverBoolean, serverQuery } from "../pool/server-text.js";
import { chooseWriter } from "./choose-writer.js";
import { askCandidates, IN_RECOVERY_SQL } from "./writer-probe.js";

export interface PrimaryFollowerOptions {
  /**
   * Every server that may become the writer: the primary URL's hosts (several for a multi-host
   * URL), never a replica URL (see createNodes).
   */
  readonly candidates: readonly ConnectionSettings[];
  /**
   * Ask at start which candidate writes (writes wait for the answer): a multi-host primary URL
   * need not list the writer first. A single-host primary URL is taken at its word.
   */
  readonly discoverAtStart: boolean;
  /** Bound of one round of questions (each candidate's connect + query). */
  readonly probeTimeoutMs: number;
  /** No new round sooner than this after the last one ended (a burst of 25006 asks once). */
  readonly cooldownMs: number;
  /**
   * While no candidate takes writes (a promotion under way, an endpoint not yet re-pointed), ask
   * again after this long: without a replica monitor nothing else would ask.
   */
  readonly retryMs: number;
  /** Told once the primary points at another server, or reconnected (its old breaker state says nothing about it). */
  readonly onRetarget?: () => void;
}

/**
 * Keeps the primary node pointed at the server that accepts writes. When the primary answers a
 * write with 25006, the replica monitor sees it in recovery or unreachable, or its breaker opens,
 * the follower asks every candidate `pg_is_in_recovery()` and, if another one is the writer,
 * moves the primary there: writes are refused with a 503 `primary-moving` for the instant of the
 * move (never sent, so never twice), its pool is dropped and the next write connects to the new
 * writer. A writer reached again under the same name (an RDS/Aurora cluster endpoint after a
 * failover) gets its pool dropped so the name re-resolves. `topology:change` tells of each.
 *
 * The node keeps its name (`primary`): metrics and events go on under it; `settings` says where it points.
 */
export class PrimaryFollower {
  readonly #primary: DbNode;
  readonly #options: PrimaryFollowerOptions;
  readonly #events: SplitEvents;
  readonly #pause: ReturnType<DbNode["claimPause"]>;
  #round: Promise<void> | undefined;
  #lastEnded = Number.NEGATIVE_INFINITY;
  #roundsWithoutWriter = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Set by `stop()` ($disconnect, shutdown): no more retries until something else asks. */
  #stopped = false;
  /**
   * Something said the primary's connections are wrong (25006, its breaker opened) and no round
   * has settled it yet: a writer found behind the same name then gets its pool reconnected (and
   * its breaker closed), whichever trigger started that round.
   */
  #suspected = false;
  /** The suspicion came from an open breaker (not only from 25006 answers, which may be old news). */
  #breakerOpened = false;

  constructor(primary: DbNode, options: PrimaryFollowerOptions, events: SplitEvents) {
    this.#primary = primary;
    this.#options = options;
    this.#events = events;
    this.#pause = primary.claimPause();
    primary.watchReadOnly(() => {
      this.suspect("read-only");
    });
  }

  /** With `discoverAtStart`, asks the candidates once now; queries on the primary wait for the answer (bounded by `probeTimeoutMs`). */
  start(): void {
    if (this.#options.discoverAtStart) this.#pause.hold(this.suspect("start"));
  }

  /** Cancels a pending retry ($disconnect, shutdown); a later trigger asks again. */
  stop(): void {
    this.#stopped = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** How many rounds of questions have ended finding no writer among the candidates. */
  get roundsWithoutWriter(): number {
    return this.#roundsWithoutWriter;
  }

  /** Whether `node` reaches the server the primary points at now (it then takes no replica reads). */
  isPrimaryServer(node: DbNode): boolean {
    return node !== this.#primary && node.settings.identity === this.#primary.settings.identity;
  }

  /** Something says the primary may have moved: ask the candidates (once at a time, not in a burst). */
  suspect(trigger: TopologyTrigger): Promise<void> {
    this.#stopped = false;
    if (trigger === "read-only" || trigger === "in-recovery" || trigger === "breaker-open") this.#suspected = true;
    if (trigger === "breaker-open") this.#breakerOpened = true;
    if (this.#round !== undefined) return this.#round;
    // A writer seen among the replicas is news: no cooldown (the monitor says so once a round).
    const fresh = trigger === "start" || trigger === "promoted";
    if (!fresh && performance.now() - this.#lastEnded < this.#options.cooldownMs) return Promise.resolve();
    this.#round = this.#follow(trigger).finally(() => {
      this.#round = undefined;
      this.#lastEnded = performance.now();
    });
    return this.#round;
  }

  /** While nobody takes writes, asks again after `retryMs`; unref()ed, it never keeps the process alive. */
  #retryLater(trigger: TopologyTrigger): void {
    if (this.#stopped || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.suspect(trigger);
    }, this.#options.retryMs);
    this.#retry.unref();
  }

  /** Asks through the primary's own pool (one of its connections) whether it reaches a writer now. */
  async #poolReachesWriter(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#options.probeTimeoutMs);
      timer.unref();
    });
    // Parsed here (server-text.ts), never by the user's `types`.
    const asked = this.#primary.pool.query<{ in_recovery: string }>(serverQuery(IN_RECOVERY_SQL)).then(
      (result) => serverBoolean(result.rows[0]?.in_recovery) === false,
      () => false,
    );
    try {
      return await Promise.race([asked, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #follow(trigger: TopologyTrigger): Promise<void> {
    const started = performance.now();
    const answers = await askCandidates(this.#options.candidates, this.#options.probeTimeoutMs);
    const previous = this.#primary.settings;
    // A connection of its own reached the primary's server taking writes: an open breaker need
    // not wait out its reset (see DbNode.awaitAnswer).
    if (answers.some((answer) => answer.role === "primary" && answer.settings.identity === previous.identity)) {
      this.#primary.probeAnswered("primary");
    }
    // A probe of the monitor that failed says nothing against the pool's connections (a busy
    // machine): only a standby's answer or an open breaker does (`#suspected`).
    let choice = chooseWriter(previous.identity, answers, this.#suspected);
    // A 25006 may come from a statement sent before the last move, on a connection since retired:
    // reconnect only if the pool, as it is now, still reaches a standby.
    if (choice.action === "reconnect" && !this.#breakerOpened && (await this.#poolReachesWriter())) {
      choice = { action: "stay" };
    }
    if (choice.action !== "wait" && choice.action !== "ambiguous") {
      this.#suspected = false;
      this.#breakerOpened = false;
    }
    if (choice.action === "stay") return;
    if (choice.action === "wait") {
      this.#roundsWithoutWriter++;
      this.#retryLater(trigger);
      return;
    }
    if (choice.action === "ambiguous") {
      process.emitWarning(
        `prisma-split: the primary (${previous.redactedUrl}) does not take writes and several candidates do: ` +
          `${choice.writers.map((writer) => writer.settings.redactedUrl).join(", ")}. Split brain: the primary ` +
          "stays where it is; writes fail until one writer is left.",
        { code: "PRISMA_SPLIT_SPLIT_BRAIN" },
      );
      return;
    }
    const next = choice.action === "move" ? choice.to.settings : previous;
    this.#pause.refuse(() => movingError(this.#primary, next));
    try {
      await this.#primary.retarget(next);
    } finally {
      this.#pause.refuse(undefined);
    }
    this.#options.onRetarget?.();
    if (this.#events.has("topology:change")) {
      this.#events.emit("topology:change", {
        node: this.#primary.name,
        action: choice.action === "move" ? "moved" : "reconnected",
        trigger,
        previous: previous.redactedUrl,
        current: next.redactedUrl,
        durationMs: Math.round(performance.now() - started),
        roles: answers.map((answer) => ({ url: answer.settings.redactedUrl, role: answer.role })),
      });
    }
  }
}

/** Asks again later while nobody takes writes; unref()ed, so it never keeps the process alive. */
function movingError(primary: DbNode, next: ConnectionSettings): Error {
  return new DatabaseUnavailableError(
    `prisma-split: the primary is moving to ${next.redactedUrl}; the write was not sent`,
    { role: "primary", node: primary.name, reason: "primary-moving", outcome: "not-applied", retryAfterSeconds: 1 },
  );
}

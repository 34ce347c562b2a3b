import { setTimeout as sleep } from "node:timers/promises";
import type { CallOutcome } from "../../../src/errors.ts";
import { isDatabaseUnavailable } from "../../../src/index.ts";
import type { TestDb } from "../harness.ts";

/** One request of the load and how it ended. */
export interface Sample {
  readonly kind: "read" | "write";
  readonly startedAt: number;
  readonly ms: number;
  readonly outcome: "ok" | "503" | "other";
  /** For a 503, its reason; for another error, its message. */
  readonly detail?: string;
  /** For a read, the port of the server that answered. */
  readonly port?: number;
  readonly message?: string;
  /** For a write, the unique title of its post. */
  readonly title?: string;
  /** For a 503, what it says of the statement (`DatabaseUnavailableError.outcome`). */
  readonly applied?: CallOutcome;
}

export interface LoadResult {
  readonly samples: readonly Sample[];
  /** Titles of posts whose create() was acknowledged. */
  readonly acknowledged: readonly string[];
  /** Titles of posts whose create() was answered by a 503 that says it took no effect (`not-applied`). */
  readonly notApplied: readonly string[];
}

export interface LoadOptions {
  readonly workers: number;
  readonly durationMs: number;
  /** Share of reads, the rest are writes with unique keys. */
  readonly readShare: number;
  /** Pause of each worker between its requests: bounds the load on 2 shared cores. */
  readonly pauseMs: number;
  readonly tag: string;
  readonly authorId: number;
  /**
   * Keeps the load going past `durationMs`, between requests, until this returns true, for at
   * most `maxDurationMs` in all: what a scenario asserts about the load after its fault then
   * does not depend on how fast the fault played out on a busy machine. Default: none.
   */
  readonly until?: (samples: readonly Sample[]) => boolean;
  /** Default: 30 s. */
  readonly maxDurationMs?: number;
  /** Where to record the samples as they come (a fault may watch them). Default: a new array. */
  readonly samples?: Sample[];
}

/**
 * A bounded mixed load: `workers` loops, each a read (node_info, so the answering server is
 * known) or a write (a post with a unique title; posts have no unique constraint, so a write
 * that ran twice would show as two rows).
 */
export async function runLoad(db: TestDb, options: LoadOptions): Promise<LoadResult> {
  const samples: Sample[] = options.samples ?? [];
  const acknowledged: string[] = [];
  const notApplied: string[] = [];
  const began = performance.now();
  const stopAt = began + options.durationMs;
  const hardStopAt = began + Math.max(options.durationMs, options.maxDurationMs ?? 30_000);
  let satisfied = options.until === undefined;
  const goOn = () => {
    const now = performance.now();
    if (now < stopAt) return true;
    if (satisfied || now >= hardStopAt) return false;
    satisfied = options.until?.(samples) ?? true;
    return !satisfied;
  };
  const worker = async (id: number) => {
    for (let i = 0; goOn(); i++) {
      const kind = Math.random() < options.readShare ? "read" : "write";
      const startedAt = performance.now();
      const title = `${options.tag}-${id}-${i}`;
      try {
        if (kind === "read") {
          const row = await db.nodeInfo.findFirst();
          samples.push({ kind, startedAt, ms: performance.now() - startedAt, outcome: "ok", port: row?.port });
        } else {
          await db.post.create({ data: { title, authorId: options.authorId } });
          acknowledged.push(title);
          samples.push({ kind, startedAt, ms: performance.now() - startedAt, outcome: "ok", title });
        }
      } catch (error) {
        const ms = performance.now() - startedAt;
        const written = kind === "write" ? { title } : {};
        if (isDatabaseUnavailable(error)) {
          const { reason, message, outcome: applied } = error;
          if (kind === "write" && applied === "not-applied") notApplied.push(title);
          samples.push({ kind, startedAt, ms, outcome: "503", detail: reason, message, applied, ...written });
        } else
          samples.push({ kind, startedAt, ms, outcome: "other", detail: String((error as Error).message), ...written });
      }
      await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, id) => worker(id)));
  return { samples, acknowledged, notApplied };
}

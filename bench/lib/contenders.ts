import { availableParallelism } from "node:os";
import { PrismaPg } from "@prisma/adapter-pg";
import { readReplicas } from "@prisma/extension-read-replicas";
import { PrismaClient } from "../../test/generated/prisma/client.ts";
import { inMemoryDriver } from "./in-memory-driver.ts";
import { loadPrismaSplit, type PrismaSplitModule } from "./prisma-split.ts";

/** What the scenarios call: the generated client's surface (every contender has it). */
export type BenchClient = PrismaClient;

/** Reads go to the replica, writes to the primary; plain PrismaClient is pointed at whichever the workload needs. */
export type Workload = "reads" | "writes";
/** `postgres`: the real cluster. `in-memory`: no I/O at all, see in-memory-driver.ts. */
export type Driver = "postgres" | "in-memory";

export interface Target {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly workload: Workload;
  readonly driver: Driver;
  /** Extra createDb() options for prisma-split (bench/profile.ts switches layers off with it). */
  readonly splitOptions?: Record<string, unknown>;
  /** The createDb() prisma-split contenders call; default: this checkout's dist/ (`--baseline` passes another build's). */
  readonly createDb?: PrismaSplitModule["createDb"];
}

export type ContenderId =
  | "prisma"
  | "extension"
  | "split"
  | "split-lsn"
  | "split-baseline"
  | "split-fastest"
  | "split-fastest-hedge"
  | "split-bare";

export interface Contender {
  readonly id: ContenderId;
  readonly label: string;
  readonly client: BenchClient;
  /**
   * The per-request context the contender's app opens around each call, if any (a consistency
   * middleware's `db.$withSession()`). Scenarios that run operations call them through it; `op`
   * must create its query (`client.user.findUnique(...)`), not receive a ready one, so that the
   * query starts inside the context.
   */
  readonly around?: (op: () => PromiseLike<unknown>) => PromiseLike<unknown>;
  /** This is another build (`--baseline`) of that contender: scenarios also compare the two round by round. */
  readonly olderBuildOf?: ContenderId;
  close(): Promise<void>;
}

export interface ContenderSpec {
  readonly id: ContenderId;
  /** Short name for tables. */
  readonly label: string;
  /** How it is set up, for the README and the JSON. */
  readonly setup: string;
  create(target: Target): Promise<Contender>;
}

/**
 * prisma-split's default pool size (Prisma 6's `connection_limit` default, 2 × CPUs + 1). The
 * peers get the same `max`, so no contender wins by opening more connections (pg's own default
 * is 10).
 */
export const POOL_MAX = availableParallelism() * 2 + 1;

function adapterFor(url: string, driver: Driver) {
  return driver === "in-memory" ? inMemoryDriver : new PrismaPg({ connectionString: url, max: POOL_MAX });
}

export const plainPrisma: ContenderSpec = {
  id: "prisma",
  label: "PrismaClient",
  setup: `new PrismaClient({ adapter: new PrismaPg({ connectionString, max: ${POOL_MAX} }) }) on the replica URL for reads, the primary URL for writes: the floor (1.00)`,
  async create(target) {
    const url = target.workload === "reads" ? target.replicaUrl : target.primaryUrl;
    const client = new PrismaClient({ adapter: adapterFor(url, target.driver) });
    return { id: this.id, label: this.label, client, close: () => client.$disconnect() };
  },
};

export const officialExtension: ContenderSpec = {
  id: "extension",
  label: "read-replicas 0.5",
  setup: `@prisma/extension-read-replicas 0.5: new PrismaClient(primary).$extends(readReplicas({ replicas: [new PrismaClient(replica)] })), pools max ${POOL_MAX}`,
  async create(target) {
    const replica = new PrismaClient({ adapter: adapterFor(target.replicaUrl, target.driver) });
    const extended = new PrismaClient({ adapter: adapterFor(target.primaryUrl, target.driver) }).$extends(
      // 0.5 types its replicas as the generic client from @prisma/client/extension.
      readReplicas({ replicas: [replica as never] }),
    );
    // Its $disconnect() disconnects the primary client and every replica client.
    return {
      id: this.id,
      label: this.label,
      client: extended as unknown as BenchClient,
      close: () => extended.$disconnect(),
    };
  },
};

export const prismaSplit: ContenderSpec = {
  id: "split",
  label: "prisma-split",
  setup: `createDb({ PrismaClient, primaryUrl, replicaUrls: [replicaUrl] }) from dist/ with every default (pools max ${POOL_MAX})`,
  create(target) {
    return createSplitContender(this, target, { options: target.splitOptions });
  },
};

/** The createDb() options of the "+lsn+metrics" contenders. */
export const LSN_AND_METRICS = {
  // Both are the defaults (metrics: on when prom-client loads; "lsn" with the replica monitor
  // on), spelled out: `metrics: {}` also throws if prom-client is missing instead of skipping.
  metrics: {},
  consistency: { readYourWrites: "lsn" },
} as const;

/**
 * A prisma-split contender for `spec`: createDb() from dist/ (or `target.createDb`) on the
 * target's URLs with `options`, over the generated PrismaClient for the target's driver unless
 * `PrismaClientClass` is given; `inSession`: every operation inside its own `db.$withSession()`.
 */
export async function createSplitContender(
  spec: ContenderSpec,
  target: Target,
  {
    PrismaClientClass = target.driver === "in-memory" ? InMemoryPrismaClient : PrismaClient,
    options = {},
    inSession = false,
  }: {
    PrismaClientClass?: new (options: never) => unknown;
    options?: Record<string, unknown>;
    inSession?: boolean;
  },
): Promise<Contender> {
  const createDb = target.createDb ?? (await loadPrismaSplit()).createDb;
  const db = createDb({
    PrismaClient: PrismaClientClass,
    primaryUrl: target.primaryUrl,
    replicaUrls: [target.replicaUrl],
    ...options,
  });
  return {
    id: spec.id,
    label: spec.label,
    client: db as unknown as BenchClient,
    ...(inSession && { around: (op: () => PromiseLike<unknown>) => db.$withSession(op) }),
    close: () => db.$disconnect(),
  };
}

/** createDb() builds each node's PrismaPg itself; this class swaps it for the in-memory driver. */
export class InMemoryPrismaClient extends PrismaClient {
  constructor(options: Record<string, unknown>) {
    super({ ...options, adapter: inMemoryDriver } as ConstructorParameters<typeof PrismaClient>[0]);
  }
}

/**
 * prisma-split with read-your-writes actually in use: every operation in its own consistency
 * context, as `expressConsistency(db)` / `fastifyConsistency` open one per request, and metrics
 * asked for explicitly. Outside a context, `readYourWrites: "lsn"` does nothing (the `split`
 * contender never enters one); inside, a write settles only after one
 * `SELECT pg_current_wal_insert_lsn()` on the primary, and a read after a write in the same
 * context goes to a replica the monitor saw replay that position, else to the primary.
 */
export const prismaSplitLsn: ContenderSpec = {
  id: "split-lsn",
  label: "prisma-split +lsn+metrics",
  setup: `createDb({ PrismaClient, primaryUrl, replicaUrls: [replicaUrl], metrics: {}, consistency: { readYourWrites: "lsn" } }) from dist/, other options default (pools max ${POOL_MAX}); every operation inside its own db.$withSession(() => op), one consistency context per call as the HTTP middleware opens per request`,
  create(target) {
    return createSplitContender(this, target, { options: LSN_AND_METRICS, inSession: true });
  },
};

/** createDb() options that turn every layer a call passes through off: the router alone. */
export const EVERY_LAYER_OFF = {
  breaker: false,
  retry: false,
  bulkhead: false,
  metrics: false,
  shutdown: false,
  poolCheck: false,
  consistency: false,
  replicas: { pollIntervalMs: false },
} as const;

/** prisma-split with every layer off (issue 12's "layers off" row: the routing layer's own cost). */
export const prismaSplitBare: ContenderSpec = {
  id: "split-bare",
  label: "prisma-split, layers off",
  setup: `createDb({ PrismaClient, primaryUrl, replicaUrls: [replicaUrl], ...${JSON.stringify(EVERY_LAYER_OFF)} }) from dist/ (pools max ${POOL_MAX}): routing only`,
  create(target) {
    return createSplitContender(this, target, { options: EVERY_LAYER_OFF });
  },
};

/** What the +lsn+metrics row of a throughput table measures, for the scenario's notes. */
export function lsnContenderNote(workload: Workload): string {
  const metrics =
    "Metrics are on in both prisma-split rows (prom-client is installed, so the default turns them on; +lsn+metrics asks for them explicitly).";
  return workload === "reads"
    ? `${prismaSplitLsn.label}: each read in its own db.$withSession(), as a consistency middleware runs a request; with no write in the context it routes like ${prismaSplit.label}'s (any replica), so the difference is the context's own cost. ${metrics}`
    : `${prismaSplitLsn.label}: each create in its own db.$withSession(); the create resolves when it commits; no SELECT pg_current_wal_insert_lsn() is sent, since nothing reads in that context (a later read would send it, not wait for it, and go to the primary until it answers). ${metrics}`;
}

/** The three contenders of the memory and failure scenarios, baseline first. */
export const ALL_CONTENDERS: readonly ContenderSpec[] = [plainPrisma, officialExtension, prismaSplit];

/** The throughput scenarios' contenders: the three, then prisma-split with consistency contexts and metrics. */
export const CONTENDERS_WITH_LSN: readonly ContenderSpec[] = [...ALL_CONTENDERS, prismaSplitLsn];

/** Creates every contender of a scenario; closes those already made if one fails. */
export async function createContenders(specs: readonly ContenderSpec[], target: Target): Promise<Contender[]> {
  const made: Contender[] = [];
  try {
    for (const spec of specs) made.push(await spec.create(target));
  } catch (error) {
    await closeContenders(made);
    throw error;
  }
  return made;
}

export async function closeContenders(contenders: readonly Contender[]): Promise<void> {
  await Promise.allSettled(contenders.map((contender) => contender.close()));
}

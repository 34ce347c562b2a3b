/**
 * `--baseline <git-ref>`: prisma-split built from another commit, measured as one more contender
 * in the same interleaved rounds as this checkout's build. Two runs cannot be compared (absolute
 * numbers move by ±30 % between runs on this box); in one run the machine's drift lands on both.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Registry } from "prom-client";
import type { ContenderSpec } from "./contenders.ts";
import { formatSpread } from "./format.ts";
import type { PrismaSplitModule } from "./prisma-split.ts";
import type { Scenario } from "./scenario.ts";
import { median, quartiles } from "./stats.ts";

type CreateDb = PrismaSplitModule["createDb"];

const checkout = fileURLToPath(new URL("../../", import.meta.url));

export interface BaselineBuild {
  /** As given on the command line. */
  readonly ref: string;
  readonly commit: string;
  /** The abbreviated commit, as its rows show it: `prisma-split @011d1eb`. */
  readonly short: string;
  readonly createDb: CreateDb;
  /** Deletes the temporary checkout (its dist/ is in use until the contenders are closed). */
  remove(): void;
}

/**
 * Exports `ref`'s tree into a temporary directory, builds it there with its own `npm run build`
 * (tsup) and imports its `dist/index.js`. The directory is removed if any step fails; otherwise
 * by the caller, with `remove()`.
 */
export async function buildBaseline(ref: string, log: (message: string) => void): Promise<BaselineBuild> {
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: checkout, maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] });
  let commit: string;
  try {
    commit = git("rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`).toString().trim();
  } catch {
    throw new Error(`--baseline ${ref}: not a commit of this repository`);
  }
  const short = git("rev-parse", "--short", commit).toString().trim();
  const dir = mkdtempSync(path.join(tmpdir(), `prisma-split-baseline-${short}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    log(`baseline: building prisma-split at ${ref} (${short}) in ${dir}...`);
    // An export of the tree, not a `git worktree add`: nothing to unregister from the repository
    // if this process is killed before it cleans up.
    execFileSync("tar", ["-x", "-C", dir], { input: git("archive", commit) });
    // This checkout's packages: the two builds differ in prisma-split's own code only, and share
    // one copy of Prisma, pg, opossum and prom-client in the process (symlinks resolve to it).
    symlinkSync(realpathSync(path.join(checkout, "node_modules")), path.join(dir, "node_modules"), "dir");
    try {
      // tsup's progress is noise here; its errors (and npm's) still reach stderr.
      execFileSync("npm", ["run", "build"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    } catch {
      throw new Error(`--baseline ${ref}: \`npm run build\` of ${short} failed (its output is above)`);
    }
    const module = (await import(pathToFileURL(path.join(dir, "dist", "index.js")).href)) as PrismaSplitModule;
    return { ref, commit, short, createDb: ownMetricsRegistry(module.createDb), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/**
 * The baseline's createDb() with its metrics in a prom-client Registry of its own. Every copy of
 * prisma-split shares one set of metric objects per registry (`Symbol.for("prisma-split.metrics")`
 * on it), made by whichever copy comes first: in the default registry one build would count its
 * queries with the other build's metrics code. The per-query work does not depend on the registry
 * (it is read at scrape time only), so this keeps each build's code on its own calls and nothing
 * else; the other options are the current contender's.
 */
function ownMetricsRegistry(createDb: CreateDb): CreateDb {
  const registry = new Registry();
  return ((options: Parameters<CreateDb>[0]) =>
    createDb({
      ...options,
      ...(options.metrics !== false && { metrics: { ...options.metrics, registry } }),
    })) as CreateDb;
}

/**
 * `scenario` with the baseline build of its `baselineFor` contender added right after that one
 * (same createDb() options, its own id and label), or `scenario` itself if it has none.
 */
export function withBaseline(scenario: Scenario, baseline: BaselineBuild): Scenario {
  const current = scenario.baselineFor;
  if (current === undefined) return scenario;
  const older: ContenderSpec = {
    id: "split-baseline",
    label: `${current.label} @${baseline.short}`,
    setup: `the "${current.label}" contender built from ${baseline.ref} (${baseline.commit}) in a temporary checkout, with this checkout's node_modules; metrics in a prom-client Registry of its own (see bench/lib/baseline.ts)`,
    async create(target) {
      const contender = await current.create({ ...target, createDb: baseline.createDb });
      return { ...contender, id: this.id, label: this.label, olderBuildOf: current.id };
    },
  };
  const at = scenario.contenders.indexOf(current) + 1;
  if (at === 0) throw new Error(`${scenario.name}: baselineFor is not one of its contenders`);
  return { ...scenario, contenders: [...scenario.contenders.slice(0, at), older, ...scenario.contenders.slice(at)] };
}

/**
 * Per round, `current` ÷ `older` measured in that round (time per operation, CPU per operation),
 * then their median and IQR, to the digits the IQR allows: `0.99 (0.95–1.02) (median, IQR)`. Below 1: this checkout is faster.
 */
export function pairedRatio(current: readonly number[], older: readonly number[]): string {
  const ratios = current.map((value, round) => value / (older[round] as number));
  const [q1, q3] = quartiles(ratios);
  return `${formatSpread(median(ratios), q1, q3, 0.001)} (median, IQR)`;
}

import type { QueryKind } from "../router.js";
import { BoundedCache } from "./bounded-cache.js";
import { catalogParameters, ROUTINE_CATALOG_SQL, type RoutineRow, verdictsOf } from "./routine-catalog.js";
import { loadSqlParser, type ParseSql } from "./sql-parser.js";
import { type RoutineName, readShape, routineKey } from "./statement-shape.js";

/** Runs a catalog query (text, parameters) on some node and returns its rows. */
export type CatalogQuery = (text: string, values: unknown[]) => Promise<readonly RoutineRow[]>;

export interface RawQueryClassifierOptions {
  /** SQL texts kept, per generation (see BoundedCache). Default 1000. */
  readonly maxTexts?: number;
  /** How long a new text waits for the catalog before it goes to the primary this time (ms). Default 2000. */
  readonly catalogWaitMs?: number;
  /** How long "the catalog could not vouch for it" holds before the text is looked at again (ms). Default 5000. */
  readonly unsureMs?: number;
  readonly now?: () => number;
  readonly loadParser?: () => Promise<ParseSql>;
  /** Starts loading the parser at construction. Default true. */
  readonly preload?: boolean;
}

/** A "primary" that holds until `until` (ms, `now()`): a routine was unknown or the catalog did not answer. */
interface Unsure {
  readonly until: number;
}

/** Routine names kept: far more than any app names, few enough to bound what inlined SQL can add. */
const MAX_ROUTINES = 5000;

/**
 * Longer texts (SQL with thousands of values inlined) go to the primary unparsed: parsing one
 * would hold the event loop for milliseconds, and caching it would hold its text.
 */
const MAX_PARSED_LENGTH = 100_000;

/**
 * Where a raw query (`$queryRaw*`) may run, decided once per SQL text: a replica (`"read"`) only
 * when PostgreSQL's own parser shows one plain SELECT (see `readShape`) and the server's catalog
 * shows that no function or operator it names may be volatile (see `verdictsOf`); anything else,
 * anything unknown and any failure is `"write"` (the primary).
 *
 * `known()` answers synchronously: a text seen before from a bounded cache, a new one whose
 * routines are all known by parsing it (the parser loads in the background from construction).
 * Else `classify()` asks the catalog about the names not seen before, in one query, and caches
 * the answer per name. A name the catalog does not know yet (created a moment ago, not replayed
 * on the replica asked) or a catalog that did not answer in `catalogWaitMs` makes the text go to
 * the primary for `unsureMs`; then it is looked at again.
 *
 * Volatility is read once per name, as pgpool-II's relation cache does: a function later
 * redefined with another volatility keeps its first verdict until the process restarts.
 *
 * @example
 * const classifier = new RawQueryClassifier((text, values) => pool.query(text, values).then((r) => r.rows));
 * classifier.known("SELECT now()"); // undefined: not seen yet
 * await classifier.classify("SELECT now()"); // "read"
 * classifier.known("SELECT now()"); // "read"
 */
export class RawQueryClassifier {
  readonly #query: CatalogQuery;
  readonly #texts: BoundedCache<string, QueryKind | Unsure>;
  readonly #routines = new BoundedCache<string, "safe" | "unsafe" | Unsure>(MAX_ROUTINES);
  /** Classifications under way, so that concurrent first calls of one text share one. */
  readonly #pending = new Map<string, Promise<QueryKind>>();
  readonly #catalogWaitMs: number;
  readonly #unsureMs: number;
  readonly #now: () => number;
  readonly #loadParser: () => Promise<ParseSql>;
  /** The parser once loaded; null when it could not be (every raw query then goes to the primary). */
  #parse: ParseSql | null | undefined;
  #parserLoad: Promise<ParseSql | null> | undefined;

  constructor(query: CatalogQuery, options: RawQueryClassifierOptions = {}) {
    this.#query = query;
    this.#texts = new BoundedCache(options.maxTexts ?? 1000);
    this.#catalogWaitMs = options.catalogWaitMs ?? 2000;
    this.#unsureMs = options.unsureMs ?? 5000;
    this.#now = options.now ?? (() => performance.now());
    this.#loadParser = options.loadParser ?? loadSqlParser;
    // Loaded in the background from the start: the first raw query should not wait for it.
    if (options.preload ?? true) void this.#parser();
  }

  /**
   * The kind of `sql` when it can be told now: a text seen before, or a new one whose routines
   * are all known (the parser decides it synchronously once loaded). Undefined when the catalog
   * must be asked first, or the parser is still loading: then `classify()`.
   */
  known(sql: string | undefined): QueryKind | undefined {
    if (sql === undefined || sql.length > MAX_PARSED_LENGTH) return "write";
    const known = this.#texts.get(sql);
    if (typeof known === "string") return known;
    if (known !== undefined && this.#now() < known.until) return "write";
    if (this.#parse === undefined) return undefined;
    const shape = this.#shape(sql);
    return typeof shape === "string" ? shape : this.#judge(sql, shape, false);
  }

  /** Classifies a new text (parser, then catalog if need be). Never rejects: a failure is `"write"`. */
  classify(sql: string): Promise<QueryKind> {
    let pending = this.#pending.get(sql);
    if (pending === undefined) {
      pending = this.#classify(sql).catch(() => "write" as const);
      this.#pending.set(sql, pending);
      void pending.then(() => this.#pending.delete(sql));
    }
    return pending;
  }

  async #classify(sql: string): Promise<QueryKind> {
    if (this.#parse === undefined) await this.#parser();
    const shape = this.#shape(sql);
    if (typeof shape === "string") return shape;
    const decided = this.#judge(sql, shape, false);
    if (decided !== undefined) return decided;
    await this.#lookUp(shape.filter((call) => this.#routineVerdict(call) === undefined));
    return this.#judge(sql, shape, true) as QueryKind;
  }

  /** What the parse tree alone decides, or the routines left for the catalog to judge. */
  #shape(sql: string): QueryKind | readonly RoutineName[] {
    if (this.#parse === null || this.#parse === undefined) return "write";
    try {
      const shape = readShape(this.#parse(sql));
      return shape.reads ? shape.calls : this.#settle(sql, "write");
    } catch {
      // A syntax error: the server would refuse it too, and the primary's answer is the one to see.
      return this.#settle(sql, "write");
    }
  }

  /**
   * The kind from what the routine cache says of `calls`; undefined while one was never asked,
   * unless `final` (after the catalog was asked): then a name still unanswered is unsure.
   */
  #judge(sql: string, calls: readonly RoutineName[], final: boolean): QueryKind | undefined {
    let unsure = false;
    for (const call of calls) {
      const verdict = this.#routineVerdict(call);
      if (verdict === "unsafe") return this.#settle(sql, "write");
      if (verdict === undefined && !final) return undefined;
      if (verdict !== "safe") unsure = true;
    }
    if (!unsure) return this.#settle(sql, "read");
    this.#texts.set(sql, { until: this.#now() + this.#unsureMs });
    return "write";
  }

  #parser(): Promise<ParseSql | null> {
    this.#parserLoad ??= this.#loadParser().then(
      (parse) => (this.#parse = parse),
      () => (this.#parse = null),
    );
    return this.#parserLoad;
  }

  #settle(sql: string, kind: QueryKind): QueryKind {
    this.#texts.set(sql, kind);
    return kind;
  }

  /** "safe", "unsafe", "unsure" (absent or unanswered, for now), or undefined: to be asked. */
  #routineVerdict(routine: RoutineName): "safe" | "unsafe" | "unsure" | undefined {
    const verdict = this.#routines.get(routineKey(routine));
    if (verdict === undefined || typeof verdict === "string") return verdict;
    return this.#now() < verdict.until ? "unsure" : undefined;
  }

  /**
   * Asks the catalog about `names`, waiting at most `catalogWaitMs`; an answer that comes later is
   * still cached for the texts that come next.
   */
  async #lookUp(names: readonly RoutineName[]): Promise<void> {
    const answered = this.#query(ROUTINE_CATALOG_SQL, catalogParameters(names)).then(
      (rows) => {
        for (const [key, verdict] of verdictsOf(names, rows)) {
          this.#routines.set(key, verdict === "absent" ? { until: this.#now() + this.#unsureMs } : verdict);
        }
      },
      () => {
        const unsure = { until: this.#now() + this.#unsureMs };
        for (const name of names) this.#routines.set(routineKey(name), unsure);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#catalogWaitMs);
      timer.unref();
    });
    await Promise.race([answered, waited]);
    clearTimeout(timer);
  }
}

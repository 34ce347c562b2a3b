import { type RoutineName, routineKey } from "./statement-shape.js";

/**
 * What the server's catalog says of a routine name: every routine of that name is known not to
 * be volatile (`safe`), one may be (`unsafe`), or there is none (`absent`: not created yet, or
 * not yet replayed on the replica that was asked).
 */
export type RoutineVerdict = "safe" | "unsafe" | "absent";

/** One row of ROUTINE_CATALOG_SQL: the routines of one name in one schema. */
export interface RoutineRow {
  readonly kind: "f" | "o";
  readonly schema: string;
  readonly name: string;
  /** One of them is declared VOLATILE (`pg_proc.provolatile = 'v'`). */
  readonly volatile: boolean;
  /**
   * One of them depends on a volatile function: in a parameter default, a SQL-standard body
   * (`BEGIN ATOMIC`, `RETURN`), an aggregate's transition or final function; followed to the end.
   */
  readonly calls_volatile: boolean;
}

/**
 * The volatility of every function named in `$1` and of the function behind every operator named
 * in `$2`, in every schema, one row per kind, schema and name. `pg_depend` records what a
 * routine calls outside a PL body (defaults, SQL-standard bodies, aggregate support functions);
 * the recursive part follows it, UNION stopping at cycles.
 */
export const ROUTINE_CATALOG_SQL = `WITH RECURSIVE named(kind, schema, name, root) AS (
  SELECT 'f', n.nspname, p.proname, p.oid
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE p.proname = ANY($1::text[])
  UNION ALL
  SELECT 'o', n.nspname, o.oprname, o.oprcode
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  WHERE o.oprname = ANY($2::text[])
), reached(root, fn) AS (
  SELECT DISTINCT root, root FROM named
  UNION
  SELECT r.root, d.refobjid FROM reached r JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = r.fn
   AND d.refclassid = 'pg_catalog.pg_proc'::regclass
)
SELECT nm.kind, nm.schema, nm.name,
  bool_or(f.oid = nm.root AND f.provolatile = 'v') AS volatile,
  bool_or(f.oid <> nm.root AND f.provolatile = 'v') AS calls_volatile
FROM named nm
JOIN reached r ON r.root = nm.root
JOIN pg_catalog.pg_proc f ON f.oid = r.fn
GROUP BY nm.kind, nm.schema, nm.name`;

/**
 * Built-in functions declared VOLATILE that only read: their results change from call to call,
 * but they write nothing, lock nothing and leave no state in the session, so a replica may run
 * them. Only the `pg_catalog` ones: a volatile function of the same name elsewhere still counts.
 */
const READ_ONLY_VOLATILE = new Set([
  "random",
  "random_normal",
  "gen_random_uuid",
  "uuidv4",
  "uuidv7",
  "clock_timestamp",
  "timeofday",
  "pg_sleep",
  "pg_sleep_for",
  "pg_sleep_until",
  "pg_is_in_recovery",
  "pg_last_wal_receive_lsn",
  "pg_last_wal_replay_lsn",
  "pg_last_xact_replay_timestamp",
  "pg_is_wal_replay_paused",
  "pg_get_wal_replay_pause_state",
  "pg_database_size",
  "pg_relation_size",
  "pg_table_size",
  "pg_indexes_size",
  "pg_total_relation_size",
]);

/**
 * Built-in functions declared STABLE that still write: each assigns the session's transaction an
 * id, which a standby cannot do (and which a primary then has to clean up).
 */
const WRITING_STABLE = new Set(["txid_current", "pg_current_xact_id"]);

/** Temporary routines exist only in the session that made them: on the primary, never on a replica. */
const TEMP_SCHEMA = /^pg_temp/;

/**
 * The verdict on each of `names` (by `routineKey`) from the rows ROUTINE_CATALOG_SQL returned
 * for them. A name without a schema is judged on every schema's routines of that name, so
 * whatever `search_path` a session has (`?schema=`, a `SET`), the one it resolves to is among
 * them; a name with a schema on that schema's alone.
 *
 * @example
 * verdictsOf([{ kind: "function", schema: undefined, name: "now" }],
 *   [{ kind: "f", schema: "pg_catalog", name: "now", volatile: false, calls_volatile: false }]);
 * // Map { "f\0\0now" => "safe" }
 */
export function verdictsOf(names: readonly RoutineName[], rows: readonly RoutineRow[]): Map<string, RoutineVerdict> {
  const verdicts = new Map<string, RoutineVerdict>();
  for (const routine of names) {
    const kind = routine.kind === "function" ? "f" : "o";
    const matching = rows.filter(
      (row) =>
        row.kind === kind &&
        row.name === routine.name &&
        (routine.schema === undefined || row.schema === routine.schema),
    );
    verdicts.set(routineKey(routine), verdictOf(routine, matching));
  }
  return verdicts;
}

function verdictOf(routine: RoutineName, rows: readonly RoutineRow[]): RoutineVerdict {
  if (routine.schema !== undefined && TEMP_SCHEMA.test(routine.schema)) return "unsafe";
  if (rows.length === 0) return "absent";
  if (routine.kind === "function" && WRITING_STABLE.has(routine.name)) return "unsafe";
  const readsOnly = (row: RoutineRow) =>
    row.kind === "f" && row.schema === "pg_catalog" && READ_ONLY_VOLATILE.has(row.name);
  const mayWrite = (row: RoutineRow) => row.calls_volatile || (row.volatile && !readsOnly(row));
  return rows.some(mayWrite) ? "unsafe" : "safe";
}

/** The two arrays ROUTINE_CATALOG_SQL takes: function names, operator names. */
export function catalogParameters(names: readonly RoutineName[]): [string[], string[]] {
  const functions = new Set<string>();
  const operators = new Set<string>();
  for (const routine of names) (routine.kind === "function" ? functions : operators).add(routine.name);
  return [[...functions], [...operators]];
}

/**
 * Whether raw SQL is plainly read-only, so that a replica may run it. "Plainly" means a single
 * SELECT or WITH statement with nothing that writes, locks or has side effects; anything else,
 * including what this cannot tell, is not read-only and goes to the primary.
 */
export function isReadOnlySql(sql: string): boolean {
  const code = stripLiteralsAndComments(sql).trim().replace(/;\s*$/, "");
  if (code.includes(";")) return false;
  if (!/^\(*\s*(select|with)\b/i.test(code)) return false;
  return !WRITING_KEYWORDS.test(code) && !LOCKING_CLAUSE.test(code) && !SIDE_EFFECT_FUNCTIONS.test(code);
}

/**
 * What makes a SELECT or WITH write: a data-modifying CTE (`WITH x AS (DELETE ...)`) or
 * `SELECT ... INTO new_table`. Other statements cannot follow SELECT/WITH in a single statement.
 */
const WRITING_KEYWORDS = /\b(insert|update|delete|merge|into)\b/i;

/** Row locks: FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE. */
const LOCKING_CLAUSE = /\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b/i;

/** Functions that write, take locks, talk to other sessions or need a transaction id. */
const SIDE_EFFECT_FUNCTIONS =
  /\b(nextval|setval|currval|lastval|pg_advisory_\w+|pg_try_advisory_\w+|pg_notify|set_config|lo_\w+|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_switch_wal|pg_create_\w+|pg_drop_\w+|pg_logical_emit_message|txid_current|pg_current_xact_id|dblink\w*|pg_stat_reset\w*|pg_rotate_logfile)\s*\(/i;

/** Blanks out string literals, quoted identifiers and comments, so words inside them count for nothing. */
function stripLiteralsAndComments(sql: string): string {
  return sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, " '' ")
    .replace(/'(?:[^']|'')*'/g, " '' ")
    .replace(/"(?:[^"]|"")*"/g, ' "" ')
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ");
}

/**
 * The SQL text of a raw query's arguments, in each form Prisma accepts: a tagged template, a
 * `Prisma.sql` object, a TypedSQL query or a plain string. Parameters count for nothing.
 */
export function sqlTextOf(args: readonly unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === "string") return first;
  if (Array.isArray(first)) return first.join(" ");
  if (typeof first === "object" && first !== null) {
    const candidate = first as { strings?: unknown; sql?: unknown };
    if (Array.isArray(candidate.strings)) return candidate.strings.join(" ");
    if (typeof candidate.sql === "string") return candidate.sql;
  }
  return undefined;
}

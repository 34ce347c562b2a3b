import type { ParseResult } from "./sql-parser.js";

/** A function or an operator a statement calls by name, as written (schema only when qualified). */
export interface RoutineName {
  readonly kind: "function" | "operator";
  readonly schema: string | undefined;
  readonly name: string;
}

/**
 * What the parse tree alone says about a raw query: it cannot run on a replica (`why`), or it
 * can if every routine it calls is known not to be volatile (`calls`, each name once).
 */
export type StatementShape =
  | { readonly reads: false; readonly why: string }
  | { readonly reads: true; readonly calls: readonly RoutineName[] };

/** The one statement type a replica may run; any other `*Stmt` in the tree (a data-modifying CTE) is refused. */
const READING_STATEMENT = "SelectStmt";

/** `a BETWEEN x AND y` is named BETWEEN in the tree; the server runs it with these comparisons. */
const BETWEEN_OPERATORS = [">=", "<=", ">", "<"];

/**
 * Reads PostgreSQL's raw parse tree of a raw query: a replica may run it only when it is one
 * SELECT (VALUES and `TABLE x` are SELECTs too) with no `INTO`, no locking clause
 * (`FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE`) and no data-modifying statement anywhere in it,
 * subqueries and CTEs included. Every function and operator it names, anywhere in the tree, is
 * listed for the catalog to judge.
 *
 * @example
 * readShape(parse("SELECT * FROM t FOR UPDATE")); // { reads: false, why: "FOR UPDATE/SHARE" }
 * readShape(parse("SELECT now()")); // { reads: true, calls: [{ kind: "function", schema: undefined, name: "now" }] }
 */
export function readShape(tree: ParseResult): StatementShape {
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) return { reads: false, why: `${statements.length} statements` };
  const statement = statements[0]?.stmt as Record<string, unknown> | undefined;
  const type = statement === undefined ? undefined : Object.keys(statement)[0];
  if (type !== READING_STATEMENT) return { reads: false, why: type ?? "no statement" };
  const walk = new TreeWalk();
  walk.visit(statement);
  return walk.why === undefined ? { reads: true, calls: [...walk.calls.values()] } : { reads: false, why: walk.why };
}

/** One pass over a parse tree: stops at the first reason to refuse, else collects routine names. */
class TreeWalk {
  why: string | undefined;
  readonly calls = new Map<string, RoutineName>();

  visit(value: unknown): void {
    if (this.why !== undefined || typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item);
      return;
    }
    for (const [type, body] of Object.entries(value)) {
      if (typeof body === "object" && body !== null) this.#node(type, body as Record<string, unknown>);
      this.visit(body);
    }
  }

  /** `type`: a node type (`FuncCall`) or a field name (`targetList`); only node types matter. */
  #node(type: string, body: Record<string, unknown>): void {
    if (type === READING_STATEMENT) this.#select(body);
    else if (type.endsWith("Stmt")) this.why = `${type} inside the SELECT`;
    else if (type === "FuncCall") this.#call("function", body.funcname);
    else if (type === "A_Expr") this.#operators(body);
    else if (type === "SubLink")
      this.#call("operator", body.operName ?? (body.subLinkType === "ANY_SUBLINK" ? "=" : []));
    else if (type === "SortBy") this.#call("operator", body.useOp ?? []);
  }

  /** Every SELECT of the tree, subqueries and CTEs included. */
  #select(select: Record<string, unknown>): void {
    if (select.intoClause !== undefined) this.why = "SELECT INTO";
    else if (Array.isArray(select.lockingClause) && select.lockingClause.length > 0) this.why = "FOR UPDATE/SHARE";
  }

  #operators(expression: Record<string, unknown>): void {
    const kind = String(expression.kind);
    if (!kind.includes("BETWEEN")) this.#call("operator", expression.name);
    else for (const operator of BETWEEN_OPERATORS) this.#call("operator", operator);
  }

  /** `qualified`: a name list of String nodes (`schema.name` or `name`), or one operator. */
  #call(kind: RoutineName["kind"], qualified: unknown): void {
    const parts = typeof qualified === "string" ? [qualified] : namesOf(qualified);
    if (parts.length === 0) return;
    if (parts.length > 2) {
      this.why = `a routine named across databases (${parts.join(".")})`;
      return;
    }
    const name = parts[parts.length - 1] as string;
    const schema = parts.length === 2 ? parts[0] : undefined;
    this.calls.set(routineKey({ kind, schema, name }), { kind, schema, name });
  }
}

/** The strings of a list of `{ String: { sval } }` nodes. */
function namesOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => String((item as { String?: { sval?: unknown } }).String?.sval ?? ""));
}

/**
 * One string per routine name, for caches. Identifiers cannot contain NUL, so it separates the
 * parts unambiguously (a quoted `"a.b"` is not schema `a`).
 */
export function routineKey(routine: RoutineName): string {
  return `${routine.kind === "function" ? "f" : "o"}\u0000${routine.schema ?? ""}\u0000${routine.name}`;
}

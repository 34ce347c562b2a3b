/** A `Prisma.sql` / `Prisma.raw` / `Prisma.join` fragment: its text pieces around its values. */
interface SqlFragment {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

function isFragment(value: unknown): value is SqlFragment {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { strings?: unknown }).strings) &&
    Array.isArray((value as { values?: unknown }).values)
  );
}

/**
 * The SQL text of a raw query's arguments as PostgreSQL will receive it, in each form Prisma
 * accepts: a tagged template, a `Prisma.sql` object, a TypedSQL query or a plain string. Values
 * become `$n` parameters, except `Prisma.sql`/`Prisma.raw` fragments among a tagged template's
 * values, whose text is part of the statement (`Prisma.raw("nextval('s')")` must be seen).
 * Undefined when the arguments are none of these.
 *
 * @example
 * sqlTextOf([Object.assign(["SELECT * FROM t WHERE id = ", ""], { raw: [] }), 7]); // "SELECT * FROM t WHERE id = $1"
 * sqlTextOf(["SELECT 1"]); // "SELECT 1"
 */
export function sqlTextOf(args: readonly unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === "string") return first;
  if (Array.isArray(first)) return taggedText(first, args);
  if (isFragment(first)) return templateText(first.strings, first.values, 0);
  if (typeof first === "object" && first !== null) {
    const typed = (first as { sql?: unknown }).sql;
    if (typeof typed === "string") return typed;
  }
  return undefined;
}

/**
 * A tagged template's strings array is one object per call site: its text is built once, unless
 * a value is a fragment (then the text changes with it). The same string object each time also
 * spares the classifier's cache hashing it again.
 */
const taggedTexts = new WeakMap<readonly unknown[], string>();

function taggedText(strings: readonly unknown[], args: readonly unknown[]): string {
  for (let i = 1; i < args.length; i++) if (isFragment(args[i])) return templateText(strings, args, 1);
  // A template's strings array is frozen; any other array could change under the cache.
  if (!Object.isFrozen(strings)) return templateText(strings, args, 1);
  let text = taggedTexts.get(strings);
  if (text === undefined) {
    text = templateText(strings, args, 1);
    taggedTexts.set(strings, text);
  }
  return text;
}

/** `strings` interleaved with `values[offset...]`, as sql-template-tag (Prisma's `Sql`) builds its `text`. */
function templateText(strings: readonly unknown[], values: readonly unknown[], offset: number): string {
  let text = String(strings[0] ?? "");
  let parameter = 0;
  for (let i = 1; i < strings.length; i++) {
    const value = values[offset + i - 1];
    // A fragment's own parameters restart at $1: the parser needs their places, not their numbers.
    text += isFragment(value) ? templateText(value.strings, value.values, 0) : `$${++parameter}`;
    text += String(strings[i]);
  }
  return text;
}

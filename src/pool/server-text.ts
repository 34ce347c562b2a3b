/**
 * Type parsing of prisma-split's own queries (the monitor's and the follower's probes, `$health()`,
 * the read-your-writes position, the pool check): every column is the text the server sent.
 * Not the user's `types` pool option, nor pg's global parsers (`pg.types.setTypeParser`): those
 * are the app's business, and a parser that turned `false` into `"false"` must not make a
 * primary look like a standby. Prisma's own queries are not affected: its adapter parses them itself.
 */
const asText = (value: string): string => value;

/** pg's `types` for a query: `getTypeParser` of every type returns the text unchanged. */
export const SERVER_TEXT = Object.freeze({ getTypeParser: () => asText });

/** A query config that parses with {@link SERVER_TEXT}, whatever parsers the client or pg were given. */
export function serverQuery(text: string): { readonly text: string; readonly types: typeof SERVER_TEXT } {
  return { text, types: SERVER_TEXT };
}

/**
 * One of prisma-split's own queries (built by {@link serverQuery}): never the caller's statement,
 * so the pool does not bind it to the caller's deadline ticket, even when it starts in the
 * caller's async context (the pool check runs as a pool opens its first connection for a call).
 */
export function isServerTextQuery(config: unknown): boolean {
  return typeof config === "object" && config !== null && (config as { types?: unknown }).types === SERVER_TEXT;
}

/** A boolean column as PostgreSQL writes it in text (`t` / `f`); undefined for NULL or no row. */
export function serverBoolean(value: unknown): boolean | undefined {
  if (value === "t") return true;
  if (value === "f") return false;
  return undefined;
}

/** A numeric column's text as a number; undefined for NULL or no row. */
export function serverNumber(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const number = Number(value);
  return Number.isNaN(number) ? undefined : number;
}

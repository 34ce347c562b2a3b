import { createRequire } from "node:module";
import type { NodePoolConfig } from "../config/node-overrides.js";

type ParseConnectionString = (url: string) => Record<string, unknown>;
let parse: ParseConnectionString | undefined;

/** The URL parser of the adapter's own `pg`, so a URL means exactly what it means to pg. */
function parseConnectionString(url: string): Record<string, unknown> {
  if (parse === undefined) {
    const require = createRequire(import.meta.url);
    const fromPg = createRequire(createRequire(require.resolve("@prisma/adapter-pg")).resolve("pg"));
    parse = (fromPg("pg-connection-string") as { parse: ParseConnectionString }).parse;
  }
  return parse(url);
}

/**
 * A pool's config: `ours` (from the URL's Prisma parameters), the URL, then the user's `pool`
 * settings on top. Without user settings, the URL goes to pg as a connection string. With them,
 * the URL is parsed here instead: pg parses a `connectionString` last and lets it win, so a URL
 * without a password would blank a `password` function and its `sslmode` would replace an `ssl`
 * object.
 */
export function mergeOverUrl(
  connectionString: string,
  ours: Record<string, unknown>,
  user: NodePoolConfig | undefined,
): Record<string, unknown> {
  if (user === undefined) return { ...ours, connectionString };
  const fromUrl = parseConnectionString(connectionString);
  // "" is what the parser says for a URL without a password: not a password.
  if (fromUrl.password === "") delete fromUrl.password;
  return { ...ours, ...withoutUndefined(fromUrl), ...user };
}

function withoutUndefined(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined && value !== null));
}

/**
 * The config of a connection prisma-split opens on its own (a probe, a candidate's role check, the
 * doctor): the node's URL with the user's driver settings (a password function, an ssl object), so
 * it logs in as the node's pool does, without their `types`, which must not parse our answers.
 */
export function ownConnectionConfig(
  connectionString: string,
  user: NodePoolConfig | undefined,
): Record<string, unknown> {
  const { types: _ignored, ...driver } = (user ?? {}) as Record<string, unknown>;
  return mergeOverUrl(connectionString, {}, driver as NodePoolConfig);
}

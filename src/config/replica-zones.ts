import { ConfigurationError } from "../errors.js";
import type { ConnectionSettings } from "./connection-url.js";
import type { NodeDescriptor } from "./node-overrides.js";
import { show } from "./validate.js";

/** `replicas.zones`: one zone per replica in their order (`undefined`: none), or a function of the replica. */
export type ZonesOption = readonly (string | undefined)[] | ((replica: NodeDescriptor) => string | undefined);

/** What a zone name may hold: cloud zone and region names (`eu-west-1a`, `us-central1-b`, `dc1/rack2`). */
const ZONE = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export function isZoneName(value: unknown): value is string {
  return typeof value === "string" && ZONE.test(value);
}

/** A zone name, or a ConfigurationError naming `setting`. */
export function readZone(setting: string, value: unknown): string {
  if (isZoneName(value)) return value;
  throw new ConfigurationError(
    setting,
    `must be a zone name (letters, digits, . _ : / -, starting with a letter or digit), got ${show(value)}`,
  );
}

/** `replicas.preferZone`: a zone name, or undefined (no preference). */
export function readPreferZone(setting: string, value: unknown): string | undefined {
  return value === undefined ? undefined : readZone(setting, value);
}

/** `replicas.zones` as given: an array or a function (checked per replica once the replicas are known). */
export function readZonesOption(setting: string, value: unknown): ZonesOption | undefined {
  if (value === undefined || typeof value === "function" || Array.isArray(value)) {
    return value as ZonesOption | undefined;
  }
  throw new ConfigurationError(
    setting,
    `must be an array of zone names in the order of the replicas, or a function of the replica, got ${show(value)}`,
  );
}

/**
 * Each replica's zone, from `replicas.zones` (else `DATABASE_REPLICA_ZONES`) and its URL's
 * `?zone=`. Either source may leave a replica without a zone; two that name different zones for
 * the same replica are refused, as is a list whose length is not the number of replicas.
 */
export function resolveReplicaZones(
  replicas: readonly ConnectionSettings[],
  option: ZonesOption | undefined,
  env: NodeJS.ProcessEnv,
): (string | undefined)[] {
  const fromEnv = option === undefined && env.DATABASE_REPLICA_ZONES !== undefined;
  const setting = fromEnv ? "DATABASE_REPLICA_ZONES" : "replicas.zones";
  const listed = fromEnv ? listFromEnv(env.DATABASE_REPLICA_ZONES as string) : option;
  if (Array.isArray(listed) && listed.length !== replicas.length) {
    throw new ConfigurationError(
      setting,
      `lists ${listed.length} zone(s) for ${replicas.length} replica(s): give one per replica (one per host of a ` +
        "multi-host URL), in their order; an empty entry leaves a replica without a zone",
    );
  }
  return replicas.map((url, index) => {
    const name = `replica-${index}`;
    const given =
      typeof listed === "function"
        ? listed({ name, role: "replica", index, url: url.connectionString })
        : (listed as readonly (string | undefined)[] | undefined)?.[index];
    const zone = given === undefined ? undefined : readZone(`${setting}[${index}]`, given);
    if (zone !== undefined && url.zone !== undefined && zone !== url.zone) {
      throw new ConfigurationError(
        `${setting}[${index}]`,
        `says zone "${zone}" and the URL of ${name} says ?zone=${url.zone}: give its zone in one place`,
      );
    }
    return zone ?? url.zone;
  });
}

/** `a,,b` → `["a", undefined, "b"]`; an empty variable lists nothing. */
function listFromEnv(text: string): (string | undefined)[] {
  if (text.trim() === "") return [];
  return text.split(",").map((entry) => (entry.trim() === "" ? undefined : entry.trim()));
}

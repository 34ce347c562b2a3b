import { ConfigurationError } from "../errors.js";
import { redactUrl } from "./redact.js";

/**
 * The checks every options group of `createDb()` is read with, so that each refusal has the
 * same shape: a {@link ConfigurationError} whose `setting` is the option's path
 * (`breaker.timeout`) and whose message says what is expected and what was given, without ever
 * printing a password or an object's contents.
 */

/** The keys of one options group, as given (not yet merged over the defaults). */
export type OptionsGroup = Readonly<Record<string, unknown>>;

export interface GroupRule {
  /** `false` turns the feature off (the group reads as `false`). Default: not allowed. */
  readonly off?: boolean;
  /** Keys that are recognised only to be refused, with why: `{ capacity: "is not offered: ..." }`. */
  readonly refused?: Readonly<Record<string, string>>;
}

/**
 * An options group: `undefined` reads as `{}`, `false` as `false` where `rule.off` allows it,
 * anything else must be a plain object whose every key is one of `known`.
 *
 * @example
 * const given = readGroup("bulkhead", options.bulkhead, ["maxQueue"], { off: true });
 * if (given === false) return false;
 */
export function readGroup(setting: string, value: unknown, known: readonly string[]): OptionsGroup;
export function readGroup(
  setting: string,
  value: unknown,
  known: readonly string[],
  rule: GroupRule & { readonly off: true },
): OptionsGroup | false;
export function readGroup(
  setting: string,
  value: unknown,
  known: readonly string[],
  rule?: GroupRule,
): OptionsGroup | false;
export function readGroup(
  setting: string,
  value: unknown,
  known: readonly string[],
  rule: GroupRule = {},
): OptionsGroup | false {
  if (value === undefined) return {};
  if (value === false && rule.off) return false;
  if (!isPlainObject(value)) {
    const shape = `an options object { ${known.join(", ")} }${rule.off ? " or false" : ""}`;
    throw new ConfigurationError(setting, `must be ${shape}, got ${show(value)}`);
  }
  refuseUnknownKeys(setting, value, known, rule.refused);
  return value;
}

/**
 * Refuses every key of `value` that is not in `known`, naming it (`replica`, or `retry.budjet`
 * under `retry`) with the known keys and, when one is a typo or a plural away, the likely one.
 * `setting` is the group's path, empty for `createDb()`'s own options.
 */
export function refuseUnknownKeys(
  setting: string,
  value: object,
  known: readonly string[],
  refused: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(value)) {
    const path = setting === "" ? key : `${setting}.${key}`;
    const why = Object.hasOwn(refused, key) ? refused[key] : undefined;
    if (why !== undefined) throw new ConfigurationError(path, why);
    if (known.includes(key)) continue;
    const likely = closestKey(key, known);
    throw new ConfigurationError(
      path,
      `is not an option; known: ${known.join(", ")}${likely === undefined ? "" : `; did you mean "${likely}"?`}`,
    );
  }
}

/** An object literal (or `Object.create(null)`), not an array, a class instance, a Map or a Date; from any realm. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * `given` over `defaults`, a key given as `undefined` keeping its default. The values are still
 * unchecked: read each with its rule.
 */
export function withDefaults<Defaults extends object>(
  defaults: Defaults,
  given: OptionsGroup,
): { readonly [Key in keyof Defaults]: unknown } {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  return merged as { readonly [Key in keyof Defaults]: unknown };
}

export interface NumberRule {
  /** Values must be ≥ `min`. */
  readonly min?: number;
  /** Values must be > `above`. */
  readonly above?: number;
  /** Values must be ≤ `max`. */
  readonly max?: number;
  /** A safe integer (up to 2^53 − 1). */
  readonly integer?: boolean;
  /** What the number counts, named in the message: `"milliseconds"`, `"processes"`. */
  readonly unit?: string;
  /** Milliseconds a timer waits: at most {@link MAX_TIMER_MS}, which the message names only to a value above it. */
  readonly timer?: boolean;
  /** `false` turns the setting off (reads as `false`). Default: not allowed. */
  readonly off?: boolean;
}

/** setTimeout's largest delay (about 24.8 days): a longer one fires at once, with a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A finite number within `rule`'s bounds, or `false` where `rule.off` allows it.
 *
 * @example
 * readNumber("retry.retries", 5, { min: 0, max: 2, integer: true });
 * // ConfigurationError: prisma-split: retry.retries: must be an integer from 0 to 2, got 5
 */
export function readNumber(setting: string, value: unknown, rule: NumberRule & { readonly off: true }): number | false;
export function readNumber(setting: string, value: unknown, rule: NumberRule & { readonly off?: false }): number;
export function readNumber(setting: string, value: unknown, rule: NumberRule): number | false;
export function readNumber(setting: string, value: unknown, rule: NumberRule): number | false {
  if (value === false && rule.off) return false;
  const orOff = rule.off ? ", or false to turn it off;" : ",";
  if (!fitsRule(value, rule))
    throw new ConfigurationError(setting, `must be ${describeNumber(rule)}${orOff} got ${show(value)}`);
  if (rule.timer && value > MAX_TIMER_MS) {
    throw new ConfigurationError(
      setting,
      `must be at most ${MAX_TIMER_MS} milliseconds (about 24.8 days)${orOff} got ${show(value)}`,
    );
  }
  return value;
}

/** Whether `value` is a finite number within `rule`'s bounds (`off` aside). */
export function fitsRule(value: unknown, rule: NumberRule): value is number {
  return (
    typeof value === "number" &&
    Number.isFinite(value) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max) &&
    (!rule.integer || Number.isSafeInteger(value))
  );
}

/** A delay in milliseconds a timer will wait, at least `min` (default 0). */
export function timerRule(min = 0): NumberRule & { readonly off?: false } {
  return { min, unit: "milliseconds", timer: true };
}

function describeNumber(rule: NumberRule): string {
  const noun = rule.integer
    ? rule.unit === undefined
      ? "an integer"
      : `a whole number of ${rule.unit}`
    : rule.unit === undefined
      ? "a number"
      : `a number of ${rule.unit}`;
  const lower = rule.min !== undefined ? `≥ ${rule.min}` : rule.above !== undefined ? `> ${rule.above}` : undefined;
  if (rule.min !== undefined && rule.max !== undefined) return `${noun} from ${rule.min} to ${rule.max}`;
  if (lower !== undefined && rule.max !== undefined) return `${noun} ${lower} and ≤ ${rule.max}`;
  if (lower !== undefined) return `${noun} ${lower}`;
  return rule.max !== undefined ? `${noun} ≤ ${rule.max}` : noun;
}

/** `true` or `false`. */
export function readBoolean(setting: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new ConfigurationError(setting, `must be true or false, got ${show(value)}`);
  return value;
}

/**
 * One of a fixed set of strings.
 *
 * @example
 * readOneOf("health.readiness", "all", ["any", "primary"]);
 * // ConfigurationError: prisma-split: health.readiness: must be one of "any", "primary", got "all"
 */
export function readOneOf<const T extends string>(setting: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigurationError(setting, `must be one of ${listChoices(choices)}, got ${show(value)}`);
}

/** `"a", "b", "c"`: choices as a message shows them. */
function listChoices(choices: readonly string[]): string {
  return choices.map((choice) => `"${choice}"`).join(", ");
}

const SHOWN_STRING_LENGTH = 80;

/**
 * A given value as a message may show it: numbers and booleans as they are, strings quoted with
 * any password redacted and cut at 80 characters, everything else by its kind only (an object
 * may hold a password, a function its source).
 */
export function show(value: unknown): string {
  switch (typeof value) {
    case "string": {
      const redacted = redactUrl(value);
      const shown = redacted.length > SHOWN_STRING_LENGTH ? `${redacted.slice(0, SHOWN_STRING_LENGTH)}…` : redacted;
      return JSON.stringify(shown);
    }
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default: {
      if (value === null || value === undefined) return String(value);
      if (Array.isArray(value)) return "an array";
      return isPlainObject(value) ? "an object" : `an instance of ${value.constructor?.name ?? "a class"}`;
    }
  }
}

/**
 * The known key `key` most likely meant: the same but for case, one edit (a letter added,
 * dropped, changed or two swapped) or a plural ending.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  const singular = (word: string) =>
    word
      .replace(/ies$/, "y")
      .replace(/(?<=s|x|ch|sh)es$/, "")
      .replace(/s$/, "");
  return (
    known.find((candidate) => candidate.toLowerCase() === wanted) ??
    known.find((candidate) => withinOneEdit(candidate.toLowerCase(), wanted)) ??
    known.find((candidate) => singular(candidate.toLowerCase()) === singular(wanted))
  );
}

/** Damerau–Levenshtein distance ≤ 1, without building the matrix. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // one letter changed
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // two swapped
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

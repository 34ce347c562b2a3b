import {
  type GroupRule,
  type NumberRule,
  readBoolean,
  readGroup,
  readNumber,
  readOneOf,
  withDefaults,
} from "./validate.js";

/**
 * The vocabulary `schema.ts` states every option's rule in, and the one function that reads an
 * options group by its rules. Each refusal is one of `validate.ts`'s: a ConfigurationError whose
 * `setting` is the option's path, built from the group's path and the key.
 */

/**
 * Reads one setting: its value (the default when not given) checked and returned, or a
 * ConfigurationError naming `setting`. `earlier` holds the group's settings read before it, for a
 * bound that depends on another (`retry.maxTimeout` ≥ `retry.minTimeout`).
 */
export type Reader<T> = (setting: string, value: unknown, earlier?: Readonly<Record<string, unknown>>) => T;

/** What a group resolves to: its defaults' types; a nested group (`Nested`) may be `false`, turned off. */
export type Resolved<Defaults, Nested extends keyof Defaults = never> = {
  readonly [Key in keyof Defaults]: Key extends Nested ? Resolved<Defaults[Key]> | false : Defaults[Key];
};

/** What a user may pass for a group whose defaults are `Defaults`: any key, each default's type. */
export type OptionsOf<Defaults, Nested extends keyof Defaults = never> = {
  -readonly [Key in keyof Defaults]?: Key extends Nested ? OptionsOf<Defaults[Key]> | false : Defaults[Key];
};

/** One rule per key of `Defaults`: the compiler refuses a key without one, or a rule of another type. */
export type Rules<Defaults, Nested extends keyof Defaults = never> = {
  readonly [Key in keyof Defaults]-?: Key extends Nested ? Group<Defaults[Key], never, true> : Reader<Defaults[Key]>;
};

export interface GroupOptions extends GroupRule {
  /** Absent reads as `false` (the group is opt-in: `replicas.hedge`). Needs `off`. */
  readonly offByDefault?: boolean;
}

const GROUP = Symbol("prisma-split.options-group");

/** An options group's rules: `read` checks what was given for it and fills in its defaults. */
export interface Group<Defaults, Nested extends keyof Defaults, Off extends boolean> {
  readonly [GROUP]: true;
  read(
    setting: string,
    given: unknown,
    defaults: Defaults,
  ): Off extends true ? Resolved<Defaults, Nested> | false : Resolved<Defaults, Nested>;
}

/**
 * An options group: a plain object whose keys are `defaults`' (an unknown one is refused with the
 * likely one), each read by its rule, the result frozen. `false` where `options.off` allows it.
 *
 * @example
 * const bulkhead = group<{ maxQueue: number }>({ maxQueue: numberIn({ min: 0, integer: true }) }, { off: true });
 * bulkhead.read("bulkhead", { maxQueue: -1 }, { maxQueue: Infinity });
 * // ConfigurationError: prisma-split: bulkhead.maxQueue: must be an integer ≥ 0, got -1
 */
export function group<Defaults extends object, Nested extends keyof Defaults = never>(
  rules: Rules<Defaults, Nested>,
  options: GroupOptions & { readonly off: true },
): Group<Defaults, Nested, true>;
export function group<Defaults extends object, Nested extends keyof Defaults = never>(
  rules: Rules<Defaults, Nested>,
  options?: GroupOptions & { readonly off?: false },
): Group<Defaults, Nested, false>;
export function group<Defaults extends object, Nested extends keyof Defaults = never>(
  rules: Rules<Defaults, Nested>,
  options: GroupOptions = {},
): Group<Defaults, Nested, boolean> {
  return {
    [GROUP]: true,
    read(setting, given, defaults) {
      const value = options.offByDefault ? (given ?? false) : given;
      const known = Object.keys(defaults);
      const checked = readGroup(setting, value, known, options);
      if (checked === false) return false;
      const merged = withDefaults(defaults, checked) as Record<string, unknown>;
      const read: Record<string, unknown> = {};
      for (const key of known) {
        const rule = rules[key as keyof Defaults] as Reader<unknown> | Group<unknown, never, true>;
        const path = `${setting}.${key}`;
        read[key] = isGroup(rule)
          ? rule.read(path, checked[key], (defaults as Record<string, unknown>)[key])
          : rule(path, merged[key], read);
      }
      return Object.freeze(read) as Resolved<Defaults, Nested>;
    },
  };
}

function isGroup(rule: unknown): rule is Group<unknown, never, true> {
  return typeof rule === "object" && rule !== null && GROUP in rule;
}

/** A finite number within `rule`'s bounds (see `readNumber`), or `false` where `rule.off` allows it. */
export function numberIn(rule: NumberRule & { readonly off: true }): Reader<number | false>;
export function numberIn(rule: NumberRule & { readonly off?: false }): Reader<number>;
export function numberIn(rule: NumberRule): Reader<number | false> {
  return (setting, value) => readNumber(setting, value, rule);
}

/** `true` or `false`. */
export const trueOrFalse: Reader<boolean> = (setting, value) => readBoolean(setting, value);

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(choices: readonly T[]): Reader<T> {
  return (setting, value) => readOneOf(setting, value, choices);
}

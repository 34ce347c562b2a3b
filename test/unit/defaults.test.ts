import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config/defaults.ts";

const DEFAULTS_FILE = new URL("../../src/config/defaults.ts", import.meta.url);
const README = new URL("../../docs/configuration.md", import.meta.url);

/** Every plain object under `value`, with its path. */
function groups(value: object, path = "DEFAULTS"): Array<[string, object]> {
  return [
    [path, value],
    ...Object.entries(value).flatMap(([key, inner]) =>
      inner !== null && typeof inner === "object" ? groups(inner, `${path}.${key}`) : [],
    ),
  ];
}

/** Each leaf of the DEFAULTS literal in defaults.ts (a value, not a nested group), with its JSDoc text. */
function documentedLeaves(): Array<[string, string]> {
  const source = ts.createSourceFile("defaults.ts", readFileSync(DEFAULTS_FILE, "utf8"), ts.ScriptTarget.ES2022, true);
  const leaves: Array<[string, string]> = [];
  const visitGroup = (literal: ts.ObjectLiteralExpression, path: string) => {
    for (const property of literal.properties) {
      if (!ts.isPropertyAssignment(property)) continue;
      const name = `${path}.${property.name.getText(source)}`;
      const nested = groupLiteral(property.initializer);
      if (nested !== undefined) visitGroup(nested, name);
      else
        leaves.push([
          name,
          ts
            .getJSDocCommentsAndTags(property)
            .map((doc) => doc.getText(source))
            .join("\n"),
        ]);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(source) === "DEFAULTS" && node.initializer) {
      const literal = groupLiteral(node.initializer);
      if (literal !== undefined) visitGroup(literal, "DEFAULTS");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return leaves;
}

/** `frozen({ ... })`: the literal of a group. */
function groupLiteral(node: ts.Expression): ts.ObjectLiteralExpression | undefined {
  if (!ts.isCallExpression(node)) return undefined;
  const [argument] = node.arguments;
  return argument !== undefined && ts.isObjectLiteralExpression(argument) ? argument : undefined;
}

/** `value` at `path` (`breaker.timeout`) in DEFAULTS, or undefined. */
function defaultAt(path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], DEFAULTS);
}

/** docs/configuration.md's Options table: each option path with the default the table gives it, as JSON where it is a literal. */
function readmeDefaults(): Array<[string, string]> {
  const text = readFileSync(README, "utf8");
  const table = text.slice(text.indexOf("## Options"), text.indexOf("### Connection URL parameters"));
  const rows: Array<[string, string]> = [];
  for (const line of table.split("\n")) {
    const cells = line.split(" | ");
    if (cells.length < 3 || !cells[0]?.startsWith("| `")) continue;
    const names = (cells[0] as string).slice(2).split(" / ");
    const values = (cells[1] as string).replace(/ \(.*\)$/, "").split(" / ");
    const group = (names[0] as string).replaceAll("`", "").split(".").slice(0, -1).join(".");
    names.forEach((name, index) => {
      const key = name.replaceAll("`", "");
      rows.push([key.includes(".") || group === "" ? key : `${group}.${key}`, values[index] ?? ""]);
    });
  }
  return rows;
}

describe("DEFAULTS", () => {
  it("is frozen all the way down", () => {
    for (const [path, group] of groups(DEFAULTS)) expect(Object.isFrozen(group), path).toBe(true);
  });

  it("states each option's default in its JSDoc", () => {
    const leaves = documentedLeaves();
    expect(leaves.length).toBeGreaterThan(40);
    for (const [path, doc] of leaves) expect(doc, path).toMatch(/Default|required/);
  });

  it("has the defaults docs/configuration.md's Options table documents, under the same names", () => {
    const rows = readmeDefaults();
    let compared = 0;
    for (const [path, shown] of rows) {
      const value = defaultAt(path);
      if (value === undefined && !/^(PrismaClient|primaryUrl|replicaUrls|clientOptions|pool|logger)$/.test(path)) {
        // Options without a value of their own: their default is said in words.
        expect(
          ["bulkhead.maxQueue", "metrics.registry", "poolCheck.reserved", "replicas.preferZone", "replicas.zones"],
          path,
        ).toContain(path);
      }
      const literal = /^`([^`]*)`$/.exec(shown)?.[1];
      if (literal === undefined || value === undefined || (typeof value === "object" && !Array.isArray(value)))
        continue;
      expect(value, path).toEqual(JSON.parse(literal));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(25);
  });
});

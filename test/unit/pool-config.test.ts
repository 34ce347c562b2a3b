import { describe, expect, it } from "vitest";
import { clientOptionsFor, poolConfigFor, readOverrideOption } from "../../src/config/node-overrides.ts";
import { mergeOverUrl } from "../../src/pool/pool-config.ts";

const url = "postgresql://app@db.example:6432/shop?sslmode=require&application_name=shop";
const node = { name: "replica-0", role: "replica" as const, index: 0, url };

describe("mergeOverUrl", () => {
  it("without user settings hands pg the URL itself", () => {
    expect(mergeOverUrl(url, { max: 5 }, undefined)).toEqual({ max: 5, connectionString: url });
  });

  it("with them, the URL's fields, then the user's: a password function and an ssl object survive", () => {
    const password = () => "token";
    const ssl = { ca: "-----BEGIN CERTIFICATE-----" };
    const merged = mergeOverUrl(
      url,
      { max: 5, fallback_application_name: "prisma-split/replica-0" },
      { password, ssl },
    );
    expect(merged).toMatchObject({
      max: 5,
      host: "db.example",
      port: "6432",
      database: "shop",
      user: "app",
      application_name: "shop",
      password,
      ssl,
    });
    expect(merged).not.toHaveProperty("connectionString");
  });

  it("a URL without a password does not blank one; the user's max wins over connection_limit's", () => {
    expect(mergeOverUrl("postgresql://app@h/db", { max: 5 }, { max: 2 })).not.toHaveProperty("password");
    expect(mergeOverUrl("postgresql://app@h/db", { max: 5 }, { max: 2 }).max).toBe(2);
  });
});

describe("pool and clientOptions options", () => {
  it("an object applies to every node; a function is asked per node", () => {
    expect(poolConfigFor({ keepAlive: true }, node)).toEqual({ keepAlive: true });
    expect(poolConfigFor(({ role }) => (role === "replica" ? { max: 3 } : undefined), node)).toEqual({ max: 3 });
    expect(poolConfigFor(undefined, node)).toBeUndefined();
    expect(clientOptionsFor(({ name }) => ({ log: [name] }), node)).toEqual({ log: ["replica-0"] });
    expect(clientOptionsFor(undefined, node)).toEqual({});
  });

  it("refuses what prisma-split sets itself, and a password of another type without showing it", () => {
    expect(() => readOverrideOption("pool", { Client: class {} })).toThrow(/pool\.Client: is set by prisma-split/);
    expect(() => readOverrideOption("clientOptions", { adapter: {} })).toThrow(/clientOptions\.adapter/);
    expect(() => poolConfigFor(() => ({ password: 12345 }) as never, node)).toThrow(
      /^prisma-split: pool\(replica-0\)\.password: must be a string or a function returning one$/,
    );
    expect(() => readOverrideOption("pool", 3)).toThrow(/pool: must be an object or a function of the node, got 3/);
  });
});

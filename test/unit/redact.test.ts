import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { redactUrl } from "../../src/config/redact.ts";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { configRefusal } from "./config-refusal.ts";

/** Every piece of `secret` at least `min` characters long: none may show. */
function piecesOf(secret: string, min = 2): string[] {
  const pieces: string[] = [];
  for (let start = 0; start + min <= secret.length; start += 1) {
    for (let end = start + min; end <= secret.length; end += 1) pieces.push(secret.slice(start, end));
  }
  return pieces;
}

const GARBLED = "p@ss:w/rd%";

describe("redactUrl", () => {
  it.each([
    // well-formed
    ["postgresql://app:s3cret@db/app", "postgresql://app:***@db/app"],
    ["postgresql://app:p%40ss@db:5432/app?sslmode=require", "postgresql://app:***@db:5432/app?sslmode=require"],
    ["postgresql://app@db/app", "postgresql://app@db/app"],
    ["postgresql://app@db/app?application_name=me@laptop", "postgresql://app@db/app?application_name=me@laptop"],
    ["postgresql://app:@db/app", "postgresql://app:***@db/app"],
    ["postgresql://:s3cret@db/app", "postgresql://:***@db/app"],
    ["postgresql://a:s3cret@h1:5432,h2:5432/app", "postgresql://a:***@h1:5432,h2:5432/app"],
    // passwords that were not percent-encoded: hidden up to the last @, parseable or not
    [`postgresql://app:${GARBLED}@host/db`, "postgresql://app:***@host/db"],
    ["postgresql://app:p@ss/w@rd@host/db", "postgresql://app:***@host/db"],
    ["postgresql://app:1234/x@host/db", "postgresql://app:***@host/db"],
    ["postgresql://app:1?x@host/db", "postgresql://app:***@host/db"],
    ["postgresql://app:1#x@host/db", "postgresql://app:***@host/db"],
    ["postgresql://app:p%zz@host/db", "postgresql://app:***@host/db"],
    ["postgresql://app:p:ss@host/db", "postgresql://app:***@host/db"],
    ["postgresql://admin@server:s3cret@server.example.com/db", "postgresql://admin@server:***@server.example.com/db"],
    ["postgresql://app:s3cret@ bad host/app", "postgresql://app:***@ bad host/app"],
    ["postgresql//app:hunter2@db", "postgresql//app:***@db"],
    ["postgresql:/app:pa//ss@host", "postgresql:/app:***@host"],
    ["app:s3cret@host", "app:***@host"],
    // ambiguous: more is hidden than needed, never less
    ["postgresql://host:5432/db?application_name=a@b", "postgresql://host:***@b"],
    ["postgresql://app:password=x@host/db", "postgresql://app:***"],
    // password= in a query or in libpq's keyword form
    ["host=db password=s3cret user=app", "host=db password=*** user=app"],
    ["host=db password = s3cret user=app@corp", "host=db password = *** user=app@corp"],
    ["host=db password='s3 c\\'ret' user=app", "host=db password=*** user=app"],
    ["postgresql://db/app?password=s3cret&sslmode=require", "postgresql://db/app?password=***&sslmode=require"],
    ["postgresql://db/app?password=p&ss&sslmode=require", "postgresql://db/app?password=***&sslmode=require"],
    ["postgresql://db:5432/app?password=p@ss", "postgresql://db:***"],
    ["postgresql://app:s3cret@db/app?sslpassword=k3y", "postgresql://app:***@db/app?sslpassword=***"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each(["p@ss:w/rd%", "a/b?c#d@e", "::@@//", "%%41%", "#start", "?start", "1234/5678"])(
    "shows no piece of the password %s, in the URL or as password=",
    (password) => {
      for (const url of [
        `postgresql://app:${password}@host:5432/db?sslmode=require`,
        `postgres://app:${password}@host`,
        `host=db password=${password} user=app`,
        `postgresql://host/db?password=${password}&sslmode=require`,
      ]) {
        const redacted = redactUrl(url);
        for (const piece of piecesOf(password)) {
          if (!url.replace(password, "").includes(piece)) expect(redacted).not.toContain(piece);
        }
      }
    },
  );
});

describe("URL refusals never quote a password", () => {
  it(`createDb's refusal of postgresql://app:${GARBLED}@host/db contains no piece of the password`, () => {
    const PrismaClient = class {} as unknown as CreateDbOptions<unknown>["PrismaClient"];
    const error = configRefusal(() =>
      resolveConfig({ PrismaClient, primaryUrl: `postgresql://app:${GARBLED}@host/db` }, {}),
    );
    expect(error.setting).toBe("primaryUrl");
    expect(error.message).toContain("postgresql://app:***@host/db");
    for (const piece of piecesOf(GARBLED)) expect(error.message).not.toContain(piece);
  });

  it.each([
    // the parser takes "ss" for the host and the rest for the path: refused, password hidden
    ["postgresql://app:p@ss/w@rd@host/db", "primaryUrl", /has an "@" after the host/, "p@ss/w@rd"],
    ["postgresql://app:1#x@rd@host/db", "primaryUrl", /has an "@" after the host/, "1#x@rd"],
    // what the parser took for a parameter is part of the password: its value is not quoted
    ["postgresql://app:1?connection_limit=s3cret@host/db", "primaryUrl?connection_limit", /not shown/, "s3cret"],
    ["postgresql://app:1?schema=s3-cret@host/db", "primaryUrl?schema", /not shown/, "s3-cret"],
    // a broken %-escape in the user or database name is a refusal, not a URIError
    ["postgresql://us%zz:s3cret@host/db", "primaryUrl", /broken %-escape/, "s3cret"],
    ["postgresql://app:s3cret@host/d%b", "primaryUrl", /broken %-escape/, "s3cret"],
  ])("%s → %s", (url, setting, message, password) => {
    const error = configRefusal(() => parseConnectionUrl(url, "primaryUrl"));
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    // three characters and up: the message's own words hold two-letter pieces ("ss" in "password")
    for (const piece of piecesOf(password, 3)) expect(error.message).not.toContain(piece);
  });

  it("still quotes a bad parameter the redacted URL shows anyway", () => {
    const error = configRefusal(() => parseConnectionUrl("postgresql://app:s3cret@h/db?connection_limit=ten", "x"));
    expect(error.message).toContain('got "ten" in postgresql://app:***@h/db?connection_limit=ten');
  });
});

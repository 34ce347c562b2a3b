import { describe, expect, it } from "vitest";
import { SplitEvents, type TokenRefusedEvent } from "../../src/events.ts";
import { expressConsistency } from "../../src/http/express-consistency.ts";
import { fastifyConsistency } from "../../src/http/fastify-consistency.ts";
import { healthHandlers } from "../../src/http/health.ts";
import { type ResponseHeaders, TokenCarrier } from "../../src/http/token-carrier.ts";
import { configRefusal } from "./config-refusal.ts";

const db = {
  $withConsistency: <T>(_token: unknown, fn: () => T | Promise<T>) => Promise.resolve(fn()),
  $consistencyToken: () => undefined,
};
const health = { $health: () => Promise.reject(new Error("unused")), $ready: () => Promise.resolve(true) };

/** What a carrier writes onto a response for `token`. */
function written(carrier: TokenCarrier, token: string): { headers: Record<string, string>; cookies: string[] } {
  const out = { headers: {} as Record<string, string>, cookies: [] as string[] };
  const response: ResponseHeaders = {
    setHeader: (name, value) => {
      out.headers[name] = value;
    },
    appendCookie: (cookie) => out.cookies.push(cookie),
  };
  carrier.write(response, token);
  return out;
}

describe("the consistency middleware's options, read as createDb()'s are", () => {
  it.each([
    [
      { header: "x token" },
      "expressConsistency.header",
      'must be a header name (letters, digits, -) or false, got "x token"',
    ],
    [{ header: 5 }, "expressConsistency.header", "got 5"],
    [
      { headr: "x-token" },
      "expressConsistency.headr",
      'is not an option; known: header, cookie; did you mean "header"?',
    ],
    [
      { cookie: true },
      "expressConsistency.cookie",
      "must be an options object { name, maxAgeSeconds, secure, path } or false, got true",
    ],
    [{ cookie: {} }, "expressConsistency.cookie.name", "is required: the cookie's name (letters, digits, _, -)"],
    [
      { cookie: { name: "a b" } },
      "expressConsistency.cookie.name",
      'must be a cookie name (letters, digits, _, -), got "a b"',
    ],
    [
      { cookie: { name: "rsw", maxAgeSeconds: 0 } },
      "expressConsistency.cookie.maxAgeSeconds",
      "must be a whole number of seconds ≥ 1, got 0",
    ],
    [{ cookie: { name: "rsw", maxAgeSeconds: 1.5 } }, "expressConsistency.cookie.maxAgeSeconds", "got 1.5"],
    [
      { cookie: { name: "rsw", secure: "yes" } },
      "expressConsistency.cookie.secure",
      'must be true or false, got "yes"',
    ],
    // A `;` would let the path add attributes of its own.
    [
      { cookie: { name: "rsw", path: "/; Domain=evil.example" } },
      "expressConsistency.cookie.path",
      'got "/; Domain=evil.example"',
    ],
    [{ cookie: { name: "rsw", path: "app" } }, "expressConsistency.cookie.path", "must be a path starting with /"],
    [
      { cookie: { name: "rsw", maxAge: 5 } },
      "expressConsistency.cookie.maxAge",
      "is not an option; known: name, maxAgeSeconds, secure, path",
    ],
  ])("refuses %o, naming %s", (options, setting, message) => {
    const error = configRefusal(() => expressConsistency(db, options as never));
    expect(error.setting).toBe(setting);
    expect(error.message.startsWith(`prisma-split: ${setting}: `)).toBe(true);
    expect(error.message).toContain(message);
  });

  it("names the function the options were given to", () => {
    expect(configRefusal(() => fastifyConsistency(db, { header: "x y" })).setting).toBe("fastifyConsistency.header");
  });

  it("fills the defaults: the header both ways, no cookie; a cookie with its attributes when asked", () => {
    expect(written(new TokenCarrier(), "t1")).toEqual({ headers: { "x-consistency-token": "t1" }, cookies: [] });
    expect(written(new TokenCarrier({ header: false, cookie: { name: "rsw" } }), "t2")).toEqual({
      headers: {},
      cookies: ["rsw=t2; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"],
    });
    const custom = new TokenCarrier({
      header: "X-Token",
      cookie: { name: "rsw", maxAgeSeconds: 5, secure: true, path: "/api" },
    });
    expect(written(custom, "t3")).toEqual({
      headers: { "x-token": "t3" },
      cookies: ["rsw=t3; Path=/api; Max-Age=5; HttpOnly; SameSite=Lax; Secure"],
    });
  });
});

describe("healthHandlers' options", () => {
  it.each([
    [{ livePath: "health" }, "healthHandlers.livePath", 'must be a path starting with /, got "health"'],
    [{ readyPath: 1 }, "healthHandlers.readyPath", "got 1"],
    [{ detail: "yes" }, "healthHandlers.detail", 'must be true or false, got "yes"'],
    [{ detial: true }, "healthHandlers.detial", 'did you mean "detail"?'],
  ])("refuses %o, naming %s", (options, setting, message) => {
    const error = configRefusal(() => healthHandlers(health, options as never));
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(message);
  });
});

describe("the middleware's token reader", () => {
  it("refuses a token that does not parse, says so on the events, and the request starts a fresh context", () => {
    const events = new SplitEvents();
    const refused: TokenRefusedEvent[] = [];
    events.on("consistency:token-refused", (event) => refused.push(event));
    const carrier = new TokenCarrier({ cookie: { name: "rsw" } });
    expect(carrier.read({ "x-consistency-token": "v1.abc." }, events)).toBeUndefined();
    expect(carrier.read({ cookie: "rsw=v9.x" }, events)).toBeUndefined();
    expect(carrier.read({ "x-consistency-token": "v2.t5" }, events)).toBe("v2.t5");
    expect(carrier.read({}, events)).toBeUndefined(); // no token: nothing refused
    expect(refused).toEqual([
      { source: "header", reason: expect.stringMatching(/malformed v1 consistency token/) },
      { source: "cookie", reason: expect.stringMatching(/version v9 is not supported/) },
    ]);
  });
});

import { ConfigurationError } from "../errors.js";
import { decodeConsistencyToken } from "../routing/consistency/token.js";

/** Where the HTTP middleware reads and writes the consistency token. */
export interface ConsistencyHttpOptions {
  /**
   * A header carrying the token both ways: read from the request, set on the response when the
   * request's context has something to carry. `false`: no header. Default: `"x-consistency-token"`.
   */
  header?: string | false;
  /**
   * A cookie carrying it too (browsers send it back by themselves). `false`: none. Default: `false`.
   * `maxAgeSeconds` default: 60; the cookie is `HttpOnly; SameSite=Lax`, plus `Secure` when asked.
   */
  cookie?: { name: string; maxAgeSeconds?: number; secure?: boolean; path?: string } | false;
}

/** The part of a createDb() client the middleware uses. */
export interface ConsistencyClient {
  $withConsistency<T>(token: string | null | undefined, fn: () => T | Promise<T>): Promise<T>;
  $consistencyToken(): string | undefined;
}

type HeaderValue = string | string[] | number | undefined;

/** Reads a token from request headers and writes one onto a response, as configured. */
export class TokenCarrier {
  readonly #header: string | undefined;
  readonly #cookie: { name: string; attributes: string } | undefined;

  constructor(options: ConsistencyHttpOptions = {}) {
    const header = options.header ?? "x-consistency-token";
    if (header !== false && (typeof header !== "string" || !/^[A-Za-z0-9-]+$/.test(header))) {
      throw new ConfigurationError("header", `must be a header name or false, got ${JSON.stringify(header)}`);
    }
    this.#header = header === false ? undefined : header.toLowerCase();
    const cookie = options.cookie ?? false;
    if (cookie !== false) {
      if (typeof cookie.name !== "string" || !/^[A-Za-z0-9_-]+$/.test(cookie.name)) {
        throw new ConfigurationError("cookie.name", `must be a cookie name, got ${JSON.stringify(cookie.name)}`);
      }
      const maxAge = cookie.maxAgeSeconds ?? 60;
      if (!Number.isInteger(maxAge) || maxAge < 1) {
        throw new ConfigurationError(
          "cookie.maxAgeSeconds",
          `must be a whole number ≥ 1, got ${JSON.stringify(maxAge)}`,
        );
      }
      const attributes = `; Path=${cookie.path ?? "/"}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${cookie.secure ? "; Secure" : ""}`;
      this.#cookie = { name: cookie.name, attributes };
    }
  }

  /**
   * The request's token, header first, then cookie. A malformed one (an old app version's, a
   * client's garbage) is ignored: a bad hint must not fail the request.
   */
  read(headers: Record<string, HeaderValue>): string | undefined {
    const fromHeader = this.#header === undefined ? undefined : first(headers[this.#header]);
    const candidate =
      fromHeader ?? (this.#cookie === undefined ? undefined : cookieValue(headers.cookie, this.#cookie.name));
    if (candidate === undefined || candidate === "") return undefined;
    try {
      decodeConsistencyToken(candidate);
      return candidate;
    } catch {
      return undefined;
    }
  }

  /** Puts `token` on a response that has not sent its headers yet. */
  write(response: ResponseHeaders, token: string | undefined): void {
    if (token === undefined) return;
    if (this.#header !== undefined) response.setHeader(this.#header, token);
    if (this.#cookie !== undefined) response.appendCookie(`${this.#cookie.name}=${token}${this.#cookie.attributes}`);
  }
}

/** How a framework's response takes a header and one more `Set-Cookie`. */
export interface ResponseHeaders {
  setHeader(name: string, value: string): void;
  appendCookie(cookie: string): void;
}

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : typeof value === "string" ? value : undefined;
}

function cookieValue(header: HeaderValue, name: string): string | undefined {
  const text = first(header);
  if (text === undefined) return undefined;
  for (const pair of text.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

import { DEFAULTS } from "../config/defaults.js";
import type { OptionsOf } from "../config/rules.js";
import { RULES } from "../config/schema.js";
import type { SplitEvents } from "../events.js";
import { decodeConsistencyToken } from "../routing/consistency/token.js";

/**
 * Where the HTTP middleware reads and writes the consistency token (see
 * {@link DEFAULTS}`.consistencyHttp`): a header both ways, a cookie too. A cookie needs its `name`.
 */
export type ConsistencyHttpOptions = OptionsOf<typeof DEFAULTS.consistencyHttp, "cookie"> & {
  cookie?: (OptionsOf<typeof DEFAULTS.consistencyHttp.cookie> & { name: string }) | false;
};

/** The part of a createDb() client the middleware uses. */
export interface ConsistencyClient {
  $withConsistency<T>(token: string | null | undefined, fn: () => T | Promise<T>): Promise<T>;
  $consistencyToken(): string | undefined;
  /** Where a refused token is reported (`consistency:token-refused`). */
  readonly $events?: Pick<SplitEvents, "has" | "emit">;
}

type HeaderValue = string | string[] | number | undefined;

/** Reads a token from request headers and writes one onto a response, as configured. */
export class TokenCarrier {
  readonly #header: string | undefined;
  readonly #cookie: { name: string; attributes: string } | undefined;

  /** `setting`: the function the options were given to, named in a refusal (`expressConsistency.header`). */
  constructor(options: ConsistencyHttpOptions = {}, setting = "consistencyHttp") {
    const { header, cookie } = RULES.consistencyHttp.read(setting, options, DEFAULTS.consistencyHttp);
    this.#header = header === false ? undefined : header.toLowerCase();
    if (cookie !== false) {
      const secure = cookie.secure ? "; Secure" : "";
      this.#cookie = {
        name: cookie.name,
        attributes: `; Path=${cookie.path}; Max-Age=${cookie.maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`,
      };
    }
  }

  /**
   * The request's token, header first, then cookie. A malformed one (an old app version's, a
   * client's garbage) is refused, reported on `events`, and the request starts a fresh
   * consistency context: a bad hint must not fail the request.
   */
  read(headers: Record<string, HeaderValue>, events?: Pick<SplitEvents, "has" | "emit">): string | undefined {
    const fromHeader = this.#header === undefined ? undefined : first(headers[this.#header]);
    const source = fromHeader === undefined ? "cookie" : "header";
    const candidate =
      fromHeader ?? (this.#cookie === undefined ? undefined : cookieValue(headers.cookie, this.#cookie.name));
    if (candidate === undefined || candidate === "") return undefined;
    try {
      decodeConsistencyToken(candidate);
      return candidate;
    } catch (error) {
      if (events?.has("consistency:token-refused") === true) {
        events.emit("consistency:token-refused", { source, reason: (error as Error).message });
      }
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

import { DEFAULTS } from "../config/defaults.js";
import type { OptionsOf } from "../config/rules.js";
import { RULES } from "../config/schema.js";
import { ConfigurationError } from "../errors.js";
import type { DiagnosticsReport } from "../lifecycle/diagnostics.js";
import type { HealthReport } from "../lifecycle/health.js";
import { bearerTokenCheck, type RequestHeaders } from "./bearer-token.js";

/** What the handlers need of `db`: any view of a createDb() client. */
export interface HealthSource {
  $health(): Promise<HealthReport>;
  $ready(): Promise<boolean>;
  /** Needed with `diagnosticsToken`: every createDb() client has it. */
  $diagnostics?(): Promise<DiagnosticsReport>;
}

/** Options of {@link healthHandlers} (see {@link DEFAULTS}`.healthHandlers`). */
export type HealthHandlerOptions = OptionsOf<typeof DEFAULTS.healthHandlers>;

/**
 * A route handler for Express (`(req, res)`), Fastify (`(request, reply)`) and Node's http
 * (`(req, res)`) alike: it writes the response itself.
 */
export type HealthHandler = (request: unknown, response: unknown) => Promise<unknown>;

export interface HealthHandlers {
  /** Liveness: 200 while the process runs. Never touches the database (a database outage must not restart pods). */
  live: HealthHandler;
  /**
   * Readiness: 200 when shutdown has not begun and some node answers (`health.readiness: "any"`,
   * the default: a primary outage must not take every instance out of the load balancer) or the
   * primary answers (`"primary"`), else 503.
   */
  ready: HealthHandler;
  /**
   * `$diagnostics()` for a request with `Authorization: Bearer <diagnosticsToken>` (compared in
   * constant time); 401 with `WWW-Authenticate: Bearer` and no detail otherwise; 404 when no
   * `diagnosticsToken` was given.
   */
  diagnostics: HealthHandler;
  /**
   * For a plain `http.createServer`: answers the live and ready paths (and the diagnostics path
   * with a `diagnosticsToken`) and returns true, or returns false for any other request.
   */
  handle(request: unknown, response: unknown): boolean;
}

/**
 * Liveness and readiness endpoints for Kubernetes-style probes.
 *
 * @example
 * const health = healthHandlers(db);
 * app.get("/health", health.live);             // Express
 * app.get("/health/ready", health.ready);
 * const ops = healthHandlers(db, { diagnosticsToken: process.env.DIAGNOSTICS_TOKEN });
 * app.get("/health/diagnostics", ops.diagnostics); // Bearer token only
 * fastify.get("/health/ready", health.ready);  // Fastify
 * http.createServer((req, res) => health.handle(req, res) || app(req, res)); // Node http
 */
export function healthHandlers(db: HealthSource, options: HealthHandlerOptions = {}): HealthHandlers {
  const { detail, livePath, readyPath, diagnosticsToken, diagnosticsPath } = RULES.healthHandlers.read(
    "healthHandlers",
    options,
    DEFAULTS.healthHandlers,
  );
  if (diagnosticsToken !== undefined && typeof db.$diagnostics !== "function") {
    throw new ConfigurationError(
      "healthHandlers.diagnosticsToken",
      "needs a createDb() client (one with $diagnostics())",
    );
  }
  const authorized = diagnosticsToken === undefined ? () => false : bearerTokenCheck(diagnosticsToken);
  const live: HealthHandler = async (_request, response) => send(response, 200, { status: "ok" });
  const ready: HealthHandler = async (_request, response) => {
    try {
      if (detail) {
        const report = await db.$health();
        return send(response, report.ready ? 200 : 503, report);
      }
      const isReady = await db.$ready();
      return send(response, isReady ? 200 : 503, { status: isReady ? "ready" : "not-ready" });
    } catch {
      return send(response, 503, { status: "not-ready" });
    }
  };
  const diagnostics: HealthHandler = async (request, response) => {
    if (diagnosticsToken === undefined) return send(response, 404, { status: "not-found" });
    if (!authorized((request as { headers?: RequestHeaders }).headers)) {
      return send(response, 401, { status: "unauthorized" }, { "www-authenticate": 'Bearer realm="diagnostics"' });
    }
    try {
      return send(response, 200, await (db.$diagnostics as () => Promise<DiagnosticsReport>)());
    } catch {
      return send(response, 503, { status: "unavailable" });
    }
  };
  return {
    live,
    ready,
    diagnostics,
    handle(request, response) {
      const { method, url } = request as { method?: string; url?: string };
      if (method !== "GET" && method !== "HEAD") return false;
      const path = (url ?? "").split("?")[0];
      if (path === livePath) void live(request, response);
      else if (path === readyPath) void ready(request, response);
      else if (path === diagnosticsPath && diagnosticsToken !== undefined) void diagnostics(request, response);
      else return false;
      return true;
    },
  };
}

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: unknown): FastifyReplyLike;
}

interface ServerResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** Writes a JSON answer on a Fastify reply or a Node/Express response. Returns the reply for Fastify's async handlers. */
function send(response: unknown, status: number, body: unknown, headers: Record<string, string> = {}): unknown {
  const all = { "cache-control": "no-store", ...headers };
  const reply = response as Partial<FastifyReplyLike>;
  if (typeof reply.code === "function" && typeof reply.send === "function" && typeof reply.header === "function") {
    let fastify = (reply as FastifyReplyLike).code(status);
    for (const [name, value] of Object.entries(all)) fastify = fastify.header(name, value);
    return fastify.send(body);
  }
  const res = response as ServerResponseLike;
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  for (const [name, value] of Object.entries(all)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
  return undefined;
}

import type { ConnectionSettings } from "../config/connection-url.js";
import { chainOf, type Fault, messageOf } from "./classify-fault.js";

/**
 * Why a server refused a node's connection, and what to change, in words for the message of a
 * DatabaseConfigurationError: the driver's own error says only "TLS error" or "unsupported
 * startup parameter", and the reason is in its `cause` or in a pg default few know of. Undefined
 * when there is nothing to add to the fault's label.
 *
 * @example
 * configurationAdvice(fault, error, node.settings);
 * // "`sslmode=require` verifies the certificate in pg (libpq's verify-full) ..."
 */
export function configurationAdvice(fault: Fault, error: unknown, settings: ConnectionSettings): string | undefined {
  const text = messageOf(chainOf(error));
  switch (fault.problem) {
    case "startup-parameter":
      return startupParameterAdvice(text, settings);
    case "ssl":
      return sslAdvice(text, settings);
    default:
      return undefined;
  }
}

/** PgBouncer's "unsupported startup parameter: statement_timeout" (newer releases: "... parameter in options: x"). */
function startupParameterAdvice(text: string, settings: ConnectionSettings): string {
  const name = /unsupported startup parameter(?: in options)?: *([A-Za-z_][\w.]*)/i.exec(text)?.[1];
  const parameter = name === undefined ? "a startup parameter" : `the startup parameter \`${name}\``;
  const ignore = `or list ${name === undefined ? "it" : `\`${name}\``} in PgBouncer's \`ignore_startup_parameters\``;
  // What prisma-split itself sends unless told PgBouncer is in front.
  const ours =
    name === undefined ||
    (name === "statement_timeout" && settings.statementBoundMs !== undefined) ||
    (name === "options" && settings.schema !== undefined);
  if (!settings.pgbouncer && ours) {
    return (
      `the server is a PgBouncer, which refuses ${parameter}: add \`pgbouncer=true\` to the URL ` +
      "(`?pgbouncer=true`, or `&pgbouncer=true`): prisma-split then sends no startup parameter PgBouncer refuses " +
      `(no \`statement_timeout\`, no \`options\` for \`schema\`), ${ignore}`
    );
  }
  return `PgBouncer refuses ${parameter}, set in this node's URL or \`pool\` settings: remove it${
    settings.pgbouncer ? "" : " and add `pgbouncer=true` to the URL"
  }, ${ignore}`;
}

const CERTIFICATE_TEXT =
  /self[- ]signed|unable to (verify|get (local )?issuer)|certificate (has expired|is not yet valid)|certificate chain/i;
const HOSTNAME_TEXT = /altnames|Hostname\/IP does not match|does not match certificate/i;
/** node:tls's words for why a certificate was not accepted, as the adapter's `reason` carries them. */
const CERTIFICATE_REASON =
  /(self[- ]signed certificate(?: in certificate chain)?|unable to verify the first certificate|unable to get local issuer certificate|certificate has expired|certificate is not yet valid|Hostname\/IP does not match certificate's altnames)/i;

function sslAdvice(text: string, settings: ConnectionSettings): string | undefined {
  const url = urlParameters(settings.connectionString);
  const sslmode = url.get("sslmode")?.toLowerCase();
  const sslObject = settings.driver?.ssl !== undefined && settings.driver.ssl !== false;
  if (/no encryption|SSL off|SSL required/i.test(text)) {
    return (
      "the server takes this connection only over TLS (pg_hba.conf `hostssl`) and the node connects without it: " +
      "add `sslmode=verify-full` with the server's CA (`sslrootcert=` in the URL, or `pool.ssl.ca`), or " +
      "`sslmode=no-verify` to encrypt without checking the certificate"
    );
  }
  if (/does not support SSL|server does not support/i.test(text)) {
    return `the server does not accept TLS (its \`ssl\` is off): remove \`sslmode\`${sslObject ? " and `pool.ssl`" : ""}, or turn TLS on at the server`;
  }
  const reason = CERTIFICATE_REASON.exec(text)?.[1];
  const why = reason === undefined ? "" : ` (${reason})`;
  if (HOSTNAME_TEXT.test(text)) {
    return `the server's certificate does not name the host in the URL${why}: connect by a name the certificate lists, or fix its subjectAltName`;
  }
  if (!CERTIFICATE_TEXT.test(text)) return undefined;
  const libpqCompat = url.get("uselibpqcompat") === "true";
  if (!sslObject && !libpqCompat && (sslmode === "require" || sslmode === "prefer" || sslmode === "verify-ca")) {
    return (
      `\`sslmode=${sslmode}\` verifies the certificate in pg (as libpq's verify-full does), and the server's is not trusted${why}: ` +
      "use `sslmode=no-verify` to encrypt without verifying, or give the server's CA (`sslrootcert=` in the URL, or `pool.ssl.ca`)"
    );
  }
  return (
    `the server's certificate is not trusted${why}: give its CA (\`pool.ssl.ca\`, or \`sslrootcert=\` in the URL), ` +
    "or `sslmode=no-verify` (`pool.ssl.rejectUnauthorized: false`) to encrypt without verifying"
  );
}

function urlParameters(connectionString: string): URLSearchParams {
  try {
    return new URL(connectionString).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

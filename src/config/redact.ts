/**
 * Connection strings with the password replaced by `***`. Works on garbled strings too, since
 * they are exactly the ones that end up in error messages: a password that was not
 * percent-encoded (`p@ss:w/rd%`) is hidden whole, from after `user:` up to the LAST `@`, even
 * where a URL parser would have cut it short and taken the rest for the host or the path. When
 * the string is ambiguous it hides too much rather than too little (`host:5432/db?x=a@b` shows
 * as `host:***@b`). `password=` in the query or in libpq's keyword form is hidden as well.
 *
 * @example
 * redactUrl("postgresql://app:s3cret@db/app"); // "postgresql://app:***@db/app"
 * redactUrl("postgresql://app:p@ss:w/rd%@db/app"); // "postgresql://app:***@db/app"
 * redactUrl("host=db password=s3cret"); // "host=db password=***"
 */
export function redactUrl(url: string): string {
  const spans = merge([...userinfoPassword(url), ...passwordParameters(url)]);
  let redacted = "";
  let from = 0;
  for (const [start, end] of spans) {
    redacted += `${url.slice(from, start)}***`;
    from = end;
  }
  return redacted + url.slice(from);
}

type Span = readonly [start: number, end: number];

/** `scheme://`, `scheme//` (a colon forgotten) or `//` at the start: where the userinfo begins. */
const AUTHORITY_START = /^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:?)?\/\//;
/** Without `//`, only a postgres scheme is skipped: `app:pw@host` must not read as scheme `app:`. */
const POSTGRES_SCHEME = /^\s*postgres(?:ql)?:/i;
/** libpq's keyword form (`host=db password=...`) has no userinfo. */
const KEYWORD_FORM = /^\s*[A-Za-z_]\w*\s*=/;

/**
 * The password in `user:password@`: from the first `:` up to the last `@`. A user name may hold
 * an unencoded `@` (Azure's `admin@server`), never a `:`.
 */
function userinfoPassword(url: string): Span[] {
  const at = url.lastIndexOf("@");
  if (at === -1) return [];
  const authority = AUTHORITY_START.exec(url);
  if (authority === null && KEYWORD_FORM.test(url)) return [];
  const start = authority?.[0].length ?? POSTGRES_SCHEME.exec(url)?.[0].length ?? 0;
  if (start > at) return [];
  const userinfo = url.slice(start, at);
  const userEnd = userinfo.indexOf(":");
  if (userEnd === -1) return [];
  return [[start + userEnd + 1, at]];
}

/**
 * `password=` (and `sslpassword=`) in a query or in the keyword form. The value runs to the
 * next `&name=` or whitespace, so an unencoded `&` or `@` in it stays hidden; a quoted keyword
 * value (`password='a b'`) is hidden quotes and all.
 */
const PASSWORD_PARAMETER = /password\s*=\s*('(?:[^'\\]|\\.)*'?|(?:[^&\s]|&(?![A-Za-z_][\w.-]*=))*)/gi;

function passwordParameters(url: string): Span[] {
  return [...url.matchAll(PASSWORD_PARAMETER)].map((match) => {
    const end = match.index + match[0].length;
    return [end - (match[1] ?? "").length, end] as const;
  });
}

/** Sorted, overlapping or touching spans joined, so each hidden stretch shows as one `***`. */
function merge(spans: Span[]): Span[] {
  const merged: Array<[number, number]> = [];
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

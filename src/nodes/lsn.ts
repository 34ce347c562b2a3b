/**
 * PostgreSQL WAL positions (LSNs). An LSN is a 64-bit byte position (`16/B374D848` is
 * `0x16B374D848`); it outgrows a JS number's exact range after 8 PiB of WAL, which a busy
 * cluster writes in a few years, so it is a bigint here.
 */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** `"16/B374D848"` → `0x16B374D848n`; throws on anything else. */
export function parseLsn(text: string): Lsn {
  const match = LSN_TEXT.exec(text);
  if (match === null) throw new TypeError(`not a PostgreSQL LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** `parseLsn` for a column that may be NULL (`pg_last_wal_receive_lsn()` on a primary). */
export function parseOptionalLsn(text: unknown): Lsn | undefined {
  return typeof text === "string" ? parseLsn(text) : undefined;
}

/** `0x16B374D848n` → `"16/B374D848"`, as PostgreSQL prints it. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Bytes from `behind` to `ahead`, 0 when `behind` is not behind. */
export function lsnDistance(ahead: Lsn, behind: Lsn): number {
  return ahead > behind ? Number(ahead - behind) : 0;
}

const WAL_PAGE_BYTES = 8192n;
/** A WAL page's (short) header. A segment's first page has a longer one; see below. */
const PAGE_HEADER_BYTES = 24n;

/**
 * Whether a standby that replayed up to `replayed` has everything up to `target`, a position
 * read with `pg_current_wal_insert_lsn()`. When the last record ends exactly on a page boundary,
 * the insert position points past the next page's header while the standby's replay position
 * stays on the boundary; no record can end at a header's last byte, so those two mean the same.
 * (A segment's first page has a 40-byte header, but on other pages a record can end at byte 40,
 * so that rarer case is left alone: the read goes to the primary, which is never stale.)
 */
export function lsnReached(replayed: Lsn, target: Lsn): boolean {
  if (replayed >= target) return true;
  return target % WAL_PAGE_BYTES === PAGE_HEADER_BYTES && replayed >= target - PAGE_HEADER_BYTES;
}

/** Where one member lives and listens. */
export interface MemberLayout {
  readonly name: string;
  readonly pgPort: number;
  readonly restPort: number;
  readonly dataDir: string;
  readonly pgpassFile: string;
  readonly socketDir: string;
}

export const SCOPE = "prisma-split-ha";
export const PASSWORDS = Object.freeze({
  superuser: "ha-super-s3cret",
  replication: "ha-repl-s3cret",
  rewind: "ha-rewind-s3cret",
});

/**
 * One member's Patroni configuration (YAML; JSON is YAML, so it is written as JSON and needs no
 * quoting rules). What matters, found running Debian's Patroni 3.0 here (../shared/HA-NOTES.md):
 * the `etcd3` section (etcd 3.4 serves the v3 API); a socket directory the server user can write;
 * short `ttl`/`loop_wait` so a failover takes ~10–25 s instead of ~30–60; pg_rewind (with
 * `wal_log_hints`) so a killed leader rejoins as a replica.
 *
 * `synchronous_mode`: a failover then promotes only a member that has every commit the old leader
 * acknowledged, so a lost acknowledged write in the chaos suite is prisma-split's, never the
 * asynchronous replication's.
 */
export function patroniConfig(member: MemberLayout, etcdHosts: string, pgBinDir: string): string {
  const config = {
    scope: SCOPE,
    namespace: `/${SCOPE}/`,
    name: member.name,
    restapi: { listen: `127.0.0.1:${member.restPort}`, connect_address: `127.0.0.1:${member.restPort}` },
    etcd3: { hosts: etcdHosts },
    bootstrap: {
      dcs: {
        ttl: 20,
        loop_wait: 2,
        retry_timeout: 5,
        maximum_lag_on_failover: 1048576,
        synchronous_mode: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: { wal_log_hints: "on", max_connections: 200, max_wal_senders: 10, max_replication_slots: 10 },
        },
      },
      initdb: [{ encoding: "UTF8" }, { locale: "C.UTF-8" }],
    },
    postgresql: {
      listen: `127.0.0.1:${member.pgPort}`,
      connect_address: `127.0.0.1:${member.pgPort}`,
      data_dir: member.dataDir,
      bin_dir: pgBinDir,
      pgpass: member.pgpassFile,
      // pg_basebackup's default spread checkpoint made a clone here take ~100 s.
      basebackup: [{ checkpoint: "fast" }],
      authentication: {
        superuser: { username: "postgres", password: PASSWORDS.superuser },
        replication: { username: "replicator", password: PASSWORDS.replication },
        rewind: { username: "rewinder", password: PASSWORDS.rewind },
      },
      parameters: { unix_socket_directories: member.socketDir, shared_buffers: "32MB" },
      pg_hba: ["local all all trust", "host replication replicator 127.0.0.1/32 md5", "host all all 127.0.0.1/32 md5"],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

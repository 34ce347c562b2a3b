import { busyPorts, consecutivePorts } from "../../../src/dev-cluster/ports.ts";

/**
 * The HA harness's own port range (HA_PORT_BASE overrides its start), away from PostgreSQL's
 * 5432, the dev cluster's 55432 and the ephemeral range, so a developer's other clusters never
 * collide with it. It is cut into blocks of one stack each; the first block where nothing listens
 * is taken, so two runs side by side get different blocks.
 */
const RANGE_START = Number(process.env.HA_PORT_BASE ?? 27300);
const BLOCK = 10;
const BLOCKS = 20;

export interface HaPorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  /** PostgreSQL of member 0, 1, 2. */
  readonly postgres: readonly [number, number, number];
  /** Patroni's REST API of member 0, 1, 2. */
  readonly rest: readonly [number, number, number];
  readonly haproxyPrimary: number;
  readonly haproxyReplicas: number;
}

export async function chooseHaPorts(): Promise<HaPorts> {
  for (let block = 0; block < BLOCKS; block++) {
    const ports = consecutivePorts(RANGE_START + block * BLOCK, BLOCK);
    if ((await busyPorts(ports)).length > 0) continue;
    const [etcdClient, etcdPeer, pg0, pg1, pg2, rest0, rest1, rest2, haproxyPrimary, haproxyReplicas] = ports as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return {
      etcdClient,
      etcdPeer,
      postgres: [pg0, pg1, pg2],
      rest: [rest0, rest1, rest2],
      haproxyPrimary,
      haproxyReplicas,
    };
  }
  const last = RANGE_START + BLOCK * BLOCKS - 1;
  throw new Error(`No free block of ${BLOCK} ports in ${RANGE_START}–${last} for the HA stack (set HA_PORT_BASE).`);
}

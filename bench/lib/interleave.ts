/**
 * Measures every contender once per round, in an order rotated by one each round, so that no
 * contender always runs first (cold caches) or right after a noisy neighbour, and slow drift of
 * the machine (other work, thermal, autovacuum) lands on all of them alike.
 *
 * @returns per contender (same order as given), one result per round
 */
export async function interleaveRounds<C, T>(
  contenders: readonly C[],
  rounds: number,
  measure: (contender: C, round: number) => Promise<T>,
): Promise<T[][]> {
  const results: T[][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + round) % contenders.length;
      (results[index] as T[]).push(await measure(contenders[index] as C, round));
    }
  }
  return results;
}

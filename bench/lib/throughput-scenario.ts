import { type ContenderSpec, closeContenders, createContenders, type Driver, type Workload } from "./contenders.ts";
import type { ScenarioContext } from "./scenario.ts";
import { measureThroughput, type ThroughputCase, type ThroughputOutcome } from "./throughput.ts";

/**
 * Creates the contenders for a workload on one driver, runs the cases one after the other (each
 * interleaved round by round), and closes the contenders, also when a case fails.
 */
export async function runThroughputCases(
  context: ScenarioContext,
  specs: readonly ContenderSpec[],
  workload: Workload,
  driver: Driver,
  cases: readonly ThroughputCase[],
): Promise<ThroughputOutcome[]> {
  const { cluster } = context;
  const contenders = await createContenders(specs, {
    primaryUrl: cluster.primaryUrl,
    replicaUrl: cluster.replicaUrls[0] as string,
    workload,
    driver,
  });
  try {
    const outcomes: ThroughputOutcome[] = [];
    for (const testCase of cases) {
      context.log(`${testCase.name}: warm-up, then ${context.settings.rounds} rounds × ${testCase.ops} ops`);
      outcomes.push(await measureThroughput(contenders, testCase, context.settings.rounds, context.log));
    }
    return outcomes;
  } finally {
    await closeContenders(contenders);
  }
}

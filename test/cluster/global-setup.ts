// Placeholder until the cluster harness lands its own sweep.
export default async function setup(): Promise<void> {}

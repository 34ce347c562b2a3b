/**
 * Why a node may not take reads right now: a set of flags, each written by exactly one owner
 * (the breaker writes `breaker`, the replica monitor `down`, `lagging`, `role-mismatch`, `writer`). An owner
 * claims its flag once and gets the only setter for it; everyone else reads.
 *
 * @example
 * const setDown = node.rotation.claim("down");
 * setDown(true); // node.servesReads is false until setDown(false)
 */
export class Rotation {
  readonly #flags = new Set<string>();
  readonly #claimed = new Set<string>();

  /** The setter of `flag`; a second claim of the same flag is a bug and throws. */
  claim(flag: string): (on: boolean) => void {
    if (this.#claimed.has(flag)) throw new Error(`prisma-split: the rotation flag "${flag}" already has a writer`);
    this.#claimed.add(flag);
    return (on) => {
      if (on) this.#flags.add(flag);
      else this.#flags.delete(flag);
    };
  }

  /** No flag is set: the node may take reads. */
  get clear(): boolean {
    return this.#flags.size === 0;
  }

  has(flag: string): boolean {
    return this.#flags.has(flag);
  }

  /** The flags set now. */
  flags(): string[] {
    return [...this.#flags];
  }
}

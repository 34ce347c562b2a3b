/**
 * One line that updates in place while a phase runs, on a terminal; elsewhere (a pipe, CI logs)
 * only the final state is printed, as a plain line.
 */
export class ProgressLine {
  readonly #out: NodeJS.WriteStream;
  #timer: NodeJS.Timeout | undefined;
  #render: (() => string) | undefined;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
  }

  /** Shows `render()` and refreshes it every 100 ms, until `done()`. */
  start(render: () => string): void {
    this.done();
    this.#render = render;
    if (!this.#out.isTTY) return;
    const draw = () => this.#out.write(`\r\x1b[2K${clip(render(), this.#out.columns)}`);
    draw();
    this.#timer = setInterval(draw, 100);
    this.#timer.unref();
  }

  /** Prints the final state on its own line. */
  done(): void {
    if (this.#render === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const final = this.#render();
    this.#render = undefined;
    this.#out.write(this.#out.isTTY ? `\r\x1b[2K${final}\n` : `${final}\n`);
  }
}

function clip(line: string, columns: number | undefined): string {
  return columns !== undefined && line.length >= columns ? line.slice(0, columns - 1) : line;
}

/**
 * Per-step progress on stderr. On a terminal it redraws one line; piped, it prints nothing.
 * `METAXY_PROGRESS=always|never|auto` (default auto) overrides the terminal check; when forced
 * on a non-terminal, steps are printed one per line.
 */
export class Progress {
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #enabled: boolean;
  readonly #tty: boolean;
  #total = 0;
  #label = "";
  #drawn = false;

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    const mode = (env.METAXY_PROGRESS ?? "auto").toLowerCase();
    this.#enabled = mode === "always" || mode === "1" || (mode === "auto" && this.#tty);
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  start(label: string, total: number): void {
    this.#label = label;
    this.#total = total;
  }

  step(index: number, item: string, detail = ""): void {
    if (!this.#enabled) return;
    const text = `${this.#label} [${index + 1}/${this.#total}] ${item}${detail ? ` ${detail}` : ""}`;
    if (this.#tty) {
      const columns = (this.#stream as { columns?: number }).columns || 100;
      this.#stream.write(`\r\x1b[2K${text.slice(0, Math.max(10, columns - 1))}`);
      this.#drawn = true;
    } else this.#stream.write(`${text}\n`);
  }

  done(): void {
    if (this.#enabled && this.#tty && this.#drawn) this.#stream.write("\r\x1b[2K");
    this.#drawn = false;
  }
}

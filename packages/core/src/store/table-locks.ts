/**
 * Per-table mutual exclusion inside one store: writes to a table run one at a time, so a write
 * sees the columns the previous one created (concurrent first writes to a schemaless feature
 * would otherwise race on the table's schema). Writes to other tables run concurrently; a
 * multi-table write takes its locks in sorted order, so two of them cannot deadlock.
 */
export class TableLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(tables: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const names = [...new Set(tables)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const name of names) releases.push(await this.#acquire(name));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  async #acquire(name: string): Promise<() => void> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(name, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    };
  }
}

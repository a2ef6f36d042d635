import { type DuckDBConnection, DuckDBScalarFunction, VARCHAR } from "@duckdb/node-api";
import { hashString, initHashing } from "@metaxy/core";

/** Loads the xxhash module the scalar functions use (core's, loaded once, lazily). */
export const loadXxhash = initHashing;

/**
 * xxhash64 / xxhash32 / xxh3_64 (seed 0, unsigned decimal) as DuckDB scalar functions implemented in JS:
 * DuckDB has no built-in xxhash and its community extension cannot be downloaded offline. This
 * is the compatibility mode for stores shared with Python Metaxy's xxhash defaults; it costs
 * about 1 µs per row against 0.07 µs for the built-in md5. They hash with core's `hashString`,
 * so they match the reference engine by construction; call `loadXxhash()` first.
 */
export function registerXxhashFunctions(connection: DuckDBConnection): void {
  for (const [name, algorithm] of [
    ["metaxy_xxhash64", "xxhash64"],
    ["metaxy_xxhash32", "xxhash32"],
    ["metaxy_xxh3_64", "xxh3_64"],
  ] as const) {
    connection.registerScalarFunction(
      DuckDBScalarFunction.create({
        name,
        returnType: VARCHAR,
        parameterTypes: [VARCHAR],
        mainFunction: (_info, input, output) => {
          const column = input.getColumnVector(0);
          for (let i = 0; i < input.rowCount; i++) {
            const v = column.getItem(i);
            output.setItem(i, v === null ? null : hashString(algorithm, v as string));
          }
          output.flush();
        },
      }),
    );
  }
}

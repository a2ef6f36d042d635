export { type BigQueryOptions, bigquery } from "./bigquery-backend.js";
export { BIGQUERY_HASHES, bigqueryDialect } from "./bigquery-dialect.js";
export { BigQueryDriver, type BigQueryDriverOptions, type DryRunEstimate } from "./bigquery-driver.js";

export { type ClickHouseEmbeddedOptions, type ClickHouseOptions, clickhouse } from "./clickhouse-backend.js";
export { clickhouseDialect } from "./clickhouse-dialect.js";
export { ClickHouseDriver, type ClickHouseDriverOptions } from "./clickhouse-driver.js";

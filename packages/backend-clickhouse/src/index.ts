export { clickhouseDialect } from "./clickhouse-dialect.js";
export { ClickHouseDriver, type ClickHouseDriverOptions } from "./clickhouse-driver.js";
export {
  type ClickHouseEmbeddedOptions,
  type ClickHouseOptions,
  embeddedDriver,
  serverDriver,
} from "./clickhouse-connections.js";

export { type ClickHouseEmbeddedOptions, type ClickHouseOptions, clickhouse } from "./clickhouse-backend.js";
export { clickhouseDialect } from "./clickhouse-dialect.js";
export {
  type ChdbQueryStream,
  type ChdbStreamChunk,
  type ChdbStreams,
  ClickHouseDriver,
  type ClickHouseDriverOptions,
  type EmbeddedClient,
} from "./clickhouse-driver.js";

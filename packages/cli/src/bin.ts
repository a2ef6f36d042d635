#!/usr/bin/env node
import { main } from "./main.js";

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting (large JSON through a pipe).
process.exitCode = code;

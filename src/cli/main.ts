#!/usr/bin/env node
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2), process.env);
// A start that failed may have left something opening (a Redis client retrying): leave now, not later.
if (code !== 0) process.exit(code);

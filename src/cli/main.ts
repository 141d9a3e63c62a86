#!/usr/bin/env node
import { holdYoungGeneration } from './young-generation.js';

// Before the broker's modules load: loading them alone would grow V8's young generation to its maximum.
holdYoungGeneration();
const { runCli } = await import('./run.js');
const code = await runCli(process.argv.slice(2), process.env);
// A start that failed may have left something opening (a Redis client retrying): leave now, not later.
if (code !== 0) process.exit(code);

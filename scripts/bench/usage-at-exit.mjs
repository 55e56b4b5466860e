// Preloaded into the measured child (NODE_OPTIONS=--import): at exit, writes the process's
// peak resident set size (getrusage ru_maxrss, KiB) and CPU time (microseconds) as JSON to the
// file CTR_BENCH_USAGE_FILE names.
import { writeFileSync } from 'node:fs';

const out = process.env.CTR_BENCH_USAGE_FILE;
if (out) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRSS, userCPUTime, systemCPUTime }));
  });
}

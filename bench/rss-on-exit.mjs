// Preloaded into a child process a bench spawns (`node --import ./bench/rss-on-exit.mjs ...`):
// when it exits, writes to $BENCH_RSS_FILE its peak resident set size (KiB) and the CPU time of
// all its threads (user and system, microseconds), as getrusage reports them.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  });
}

// `npm run conformance`: runs every reference suite in conformance/ unchanged and prints one
// line per suite: `<suite>: N passed, M failed, K skipped`. Exits non-zero when any case failed.
import { runUnleashSuite } from '../src/flags/conformance/unleash-suite.ts';
import { formatGreatExpectationsLine, runGreatExpectationsSuite } from '../src/quality/conformance/great-expectations-suite.ts';
import { openScratchEngine } from '../src/app/adapters.ts';

const verbose = process.argv.includes('--verbose');
let failed = 0;

const unleash = runUnleashSuite();
process.stdout.write(`unleash-client-spec: ${unleash.passed} passed, ${unleash.failed} failed, ${unleash.skipped} skipped\n`);
failed += unleash.failed;
if (verbose) for (const f of unleash.failures) process.stdout.write(`  failed: ${f}\n`);

const engine = await openScratchEngine();
const ge = await runGreatExpectationsSuite(engine);
await engine[Symbol.asyncDispose]();
process.stdout.write(`${formatGreatExpectationsLine(ge)}\n`);
failed += ge.failed;
if (verbose) for (const s of ge.skips) process.stdout.write(`  skipped: ${JSON.stringify(s)}\n`);

process.exitCode = failed > 0 ? 1 : 0;

/**
 * Local flag-evaluation throughput, side by side in one process, on the same setup for every
 * contender: one flag = a 30 % sticky gradual rollout on the key plus one IN constraint
 * (region IN [eu, us], which every context satisfies), over N distinct keys (default 1 million).
 * Each contender builds its own context per key, as a caller would.
 *
 *   npx tsx bench/flags-eval.bench.ts [--keys 1000000]
 *
 * Contenders: unleash-client (bootstrapped, offline), @growthbook/growthbook (GrowthBookClient),
 * the OpenFeature SDK's InMemoryProvider (contextEvaluator doing the same rollout with murmur3),
 * Sluice `evaluate` per key, and Sluice `evaluateBulk` over the key column.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import murmur from 'murmurhash3js';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { evaluate } from '../src/flags/evaluate.ts';
import { evaluateBulk } from '../src/flags/evaluate-bulk.ts';
import type { FlagDefinition } from '../src/flags/flag.ts';

export interface FlagsBenchRow {
  readonly contender: string;
  readonly evaluationsPerSecond: number;
  /** evaluations/s divided by the fastest peer's (peers: unleash-client, GrowthBook, OpenFeature in-memory). */
  readonly vsFastestPeer: number;
  /** Share of keys the contender enabled (≈ 0.30 for all, a sanity check that they did the same work). */
  readonly enabledShare: number;
}

export interface FlagsBenchOptions {
  readonly keys?: number;
  /** Print the table to stdout (default true). */
  readonly print?: boolean;
}

const FLAG = 'bench.rollout';

function sluiceFlag(): FlagDefinition {
  return {
    name: FLAG,
    type: 'boolean',
    killSwitch: false,
    enabled: true,
    hash: 'md5',
    strategies: [
      {
        kind: 'gradual',
        percentage: 30,
        stickiness: 'slice_key',
        groupId: FLAG,
        constraints: [{ field: 'region', operator: 'IN', values: ['eu', 'us'] }],
        segments: [],
      },
    ],
    variants: [],
    dependencies: [],
  };
}

interface Measured {
  readonly seconds: number;
  readonly enabled: number;
}

function timeSync(keys: readonly string[], fn: (key: string) => boolean): Measured {
  const warm = Math.min(100_000, keys.length);
  for (let i = 0; i < warm; i++) fn(keys[i]!);
  let enabled = 0;
  const t = performance.now();
  for (let i = 0; i < keys.length; i++) if (fn(keys[i]!)) enabled++;
  return { seconds: (performance.now() - t) / 1000, enabled };
}

async function timeAsync(keys: readonly string[], fn: (key: string) => Promise<boolean>): Promise<Measured> {
  const warm = Math.min(100_000, keys.length);
  for (let i = 0; i < warm; i++) await fn(keys[i]!);
  let enabled = 0;
  const t = performance.now();
  for (let i = 0; i < keys.length; i++) if (await fn(keys[i]!)) enabled++;
  return { seconds: (performance.now() - t) / 1000, enabled };
}

async function unleashContender(keys: readonly string[]): Promise<Measured> {
  const unleash = new Unleash({
    appName: 'sluice-bench',
    url: 'http://127.0.0.1:9/api/', // never reached: disableAutoStart, bootstrap only
    disableMetrics: true,
    refreshInterval: 0,
    disableAutoStart: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: {
      data: [
        {
          name: FLAG,
          enabled: true,
          strategies: [
            {
              name: 'flexibleRollout',
              parameters: { rollout: '30', stickiness: 'userId', groupId: FLAG },
              constraints: [{ contextName: 'region', operator: 'IN', values: ['eu', 'us'] }],
            },
          ],
        },
      ] as never,
    },
  });
  unleash.on('error', () => undefined);
  unleash.on('warn', () => undefined);
  const ready = new Promise<void>((res) => unleash.once('ready', () => res()));
  await unleash.start().catch(() => undefined);
  await Promise.race([ready, new Promise((res) => setTimeout(res, 2000))]);
  try {
    return timeSync(keys, (k) => unleash.isEnabled(FLAG, { userId: k, properties: { region: 'eu' } }));
  } finally {
    unleash.destroy();
  }
}

function growthbookContender(keys: readonly string[]): Measured {
  const gb = new GrowthBookClient().initSync({
    payload: {
      features: {
        [FLAG]: {
          defaultValue: false,
          rules: [{ condition: { region: { $in: ['eu', 'us'] } }, force: true, coverage: 0.3, hashAttribute: 'id' }],
        },
      },
    },
  });
  return timeSync(keys, (k) => gb.isOn(FLAG, { attributes: { id: k, region: 'eu' } }));
}

async function openFeatureContender(keys: readonly string[]): Promise<Measured> {
  const allowed = new Set(['eu', 'us']);
  await OpenFeature.setProviderAndWait(
    new InMemoryProvider({
      [FLAG]: {
        disabled: false,
        variants: { on: true, off: false },
        defaultVariant: 'off',
        contextEvaluator: (ctx) => {
          if (!allowed.has(String(ctx['region']))) return 'off';
          return (murmur.x86.hash32(`${FLAG}:${String(ctx.targetingKey)}`) % 100) + 1 <= 30 ? 'on' : 'off';
        },
      },
    }),
  );
  const client = OpenFeature.getClient();
  try {
    return await timeAsync(keys, (k) => client.getBooleanValue(FLAG, false, { targetingKey: k, region: 'eu' }));
  } finally {
    await OpenFeature.close();
  }
}

function sluiceSingle(keys: readonly string[]): Measured {
  const flag = sluiceFlag();
  return timeSync(keys, (k) => evaluate(flag, { slice_key: k, properties: { region: 'eu' } }).enabled);
}

function sluiceBulk(keys: readonly string[]): Measured {
  const flag = sluiceFlag();
  const ctx = { properties: { region: 'eu' } };
  evaluateBulk(flag, keys.slice(0, 100_000), ctx);
  const t = performance.now();
  const r = evaluateBulk(flag, keys, ctx);
  const seconds = (performance.now() - t) / 1000;
  let enabled = 0;
  for (let i = 0; i < r.enabled.length; i++) enabled += r.enabled[i]!;
  return { seconds, enabled };
}

export async function runFlagsBench(opts: FlagsBenchOptions = {}): Promise<FlagsBenchRow[]> {
  const n = opts.keys ?? 1_000_000;
  const keys = Array.from({ length: n }, (_, i) => `customer-${i}`);
  const measured: Array<[string, boolean, Measured]> = [
    ['unleash-client', true, await unleashContender(keys)],
    ['@growthbook/growthbook', true, growthbookContender(keys)],
    ['OpenFeature InMemoryProvider', true, await openFeatureContender(keys)],
    ['Sluice evaluate (per key)', false, sluiceSingle(keys)],
    ['Sluice evaluateBulk (column)', false, sluiceBulk(keys)],
  ];
  const rate = (m: Measured): number => n / m.seconds;
  const fastestPeer = Math.max(...measured.filter(([, peer]) => peer).map(([, , m]) => rate(m)));
  const rows = measured.map(([contender, , m]) => ({
    contender,
    evaluationsPerSecond: Math.round(rate(m)),
    vsFastestPeer: Math.round((rate(m) / fastestPeer) * 100) / 100,
    enabledShare: Math.round((m.enabled / n) * 1000) / 1000,
  }));
  if (opts.print !== false) printTable(rows, n);
  return rows;
}

function printTable(rows: readonly FlagsBenchRow[], n: number): void {
  console.log(`flag evaluation: 30 % sticky gradual rollout + one IN constraint, ${n.toLocaleString('en-US')} distinct keys, node ${process.version}`);
  const header = ['contender', 'evaluations/s', 'vs fastest peer', 'enabled share'];
  const body = rows.map((r) => [r.contender, r.evaluationsPerSecond.toLocaleString('en-US'), `${r.vsFastestPeer.toFixed(2)}×`, r.enabledShare.toFixed(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--keys');
  const keys = i > 0 ? Number(process.argv[i + 1]) : undefined;
  await runFlagsBench({ keys });
  process.exit(0);
}

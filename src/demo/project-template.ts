/**
 * The files of a new project (`sluice init`, `sluice demo`): an orders pipeline that cleans raw
 * orders and sums daily revenue, with a second, candidate version of the cleaning step.
 */
export interface TemplateOptions {
  readonly name: string;
}

export function projectFiles(o: TemplateOptions): Record<string, string> {
  return {
    'sluice.yaml': `# Sluice project. Every path is relative to this folder.
name: ${o.name}
environments: [dev, test, stage, prod]
default_environment: dev
engine:
  kind: duckdb
  # Per environment: this working file, and beside it the folder of published data
  # (warehouse-{env}/); other processes read datasets through warehouse-{env}/catalog.sql.
  path: .sluice/warehouse-{env}.duckdb
  memory_limit: 2GB
store:
  kind: sqlite
  path: .sluice/sluice.db
`,
    'pipelines/orders.yaml': `name: orders
description: Raw orders -> cleaned orders in USD -> daily revenue per country.

sources:
  raw_orders:
    format: csv
    path: data/orders/*/*.csv
    hive: true                 # folders named order_date=YYYY-MM-DD
    partition_column: order_date
    columns:
      order_id: BIGINT
      customer_id: BIGINT
      ordered_at: TIMESTAMP
      currency: VARCHAR
      amount: DOUBLE
      status: VARCHAR
      channel: VARCHAR
  customers:
    path: data/customers.csv
    partitioned: false         # read whole on every run
  fx_rates:
    path: data/fx_rates.csv
    partitioned: false

steps:
  clean_orders:
    slice_key: order_id
    default_version: v1
    versions:
      v1: { sql: steps/clean_orders/v1.sql }
      v2: { sql: steps/clean_orders/v2.sql }
      v3: { sql: steps/clean_orders/v3.sql }
  daily_revenue:
    versions:
      v1: { sql: steps/daily_revenue/v1.sql }

datasets:
  cleaned_orders:
    step: clean_orders
    partition_column: order_date
    primary_key: [order_id]
    event_time: ordered_at
    contract: contracts/cleaned_orders    # v1.yaml, v2.yaml, ...: the highest is enforced
    checks:
      - { check: not_null, column: customer_id }
      - { check: unique, column: order_id }
      - { check: in_set, column: currency, values: [USD, EUR, GBP, JPY, CHF, SEK] }
      - { check: between, column: amount_usd, min: 0 }
  daily_revenue:
    step: daily_revenue
    partition_column: order_date
    primary_key: [order_date, country]
`,
    'steps/clean_orders/v1.sql': `-- One row per order (its latest version), amounts converted to USD; cancelled, orphaned and
-- negative rows dropped. Written in SQL that DuckDB and PostgreSQL both run.
SELECT DISTINCT ON (o.order_id)
  o.order_id,
  o.customer_id,
  c.country,
  o.ordered_at,
  o.order_date,
  upper(trim(o.currency)) AS currency,
  o.amount,
  CAST(round(CAST(o.amount * fx.usd_rate AS NUMERIC(18, 6)), 2) AS DOUBLE PRECISION) AS amount_usd,
  o.status,
  o.channel
FROM raw_orders o
JOIN customers c ON c.customer_id = o.customer_id
JOIN fx_rates fx ON fx.currency = upper(trim(o.currency))
WHERE o.status IN ('paid', 'refunded')
  AND o.amount >= 0
ORDER BY o.order_id, o.ordered_at DESC
`,
    'steps/clean_orders/v2.sql': `-- v2: same rows as v1; the channel is normalised to lower case.
SELECT DISTINCT ON (o.order_id)
  o.order_id,
  o.customer_id,
  c.country,
  o.ordered_at,
  o.order_date,
  upper(trim(o.currency)) AS currency,
  o.amount,
  CAST(round(CAST(o.amount * fx.usd_rate AS NUMERIC(18, 6)), 2) AS DOUBLE PRECISION) AS amount_usd,
  o.status,
  lower(o.channel) AS channel
FROM raw_orders o
JOIN customers c ON c.customer_id = o.customer_id
JOIN fx_rates fx ON fx.currency = upper(trim(o.currency))
WHERE o.status IN ('paid', 'refunded')
  AND o.amount >= 0
ORDER BY o.order_id, o.ordered_at DESC
`,
    'steps/clean_orders/v3.sql': `-- v3: a "simpler" filter. Subtle defect: refunds of customers whose id is a multiple of 7 vanish.
SELECT DISTINCT ON (o.order_id)
  o.order_id,
  o.customer_id,
  c.country,
  o.ordered_at,
  o.order_date,
  upper(trim(o.currency)) AS currency,
  o.amount,
  CAST(round(CAST(o.amount * fx.usd_rate AS NUMERIC(18, 6)), 2) AS DOUBLE PRECISION) AS amount_usd,
  o.status,
  lower(o.channel) AS channel
FROM raw_orders o
JOIN customers c ON c.customer_id = o.customer_id
JOIN fx_rates fx ON fx.currency = upper(trim(o.currency))
WHERE (o.status = 'paid' OR (o.status = 'refunded' AND o.customer_id % 7 <> 0))
  AND o.amount >= 0
ORDER BY o.order_id, o.ordered_at DESC
`,
    'rollouts/clean-orders-v2.yaml': `# Move clean_orders from v1 to v2: shadow, then 10 %, 50 % and 100 % of orders (by order_id).
name: clean-orders-v2
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }            # the dataset's checks, on the candidate's own output
  same_rows: { kind: diff, max_only_baseline_share: 0.001, max_only_candidate_share: 0.001, on_fail: rollback }
  soak: { kind: soak, min_batches: 1 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [checks, soak] }
      - { mode: canary, percent: 10, gates: [checks, same_rows, soak] }
      - { mode: canary, percent: 50, gates: [checks, same_rows, soak] }
      - { mode: full, gates: [checks, same_rows, soak] }
risks:
  - { exposure: a changed channel spelling breaks consumers that group by it, mitigation: compare rows with the baseline, gate: same_rows }
`,
    'rollouts/clean-orders-v3.yaml': `# Move clean_orders from v2 to v3 (after clean-orders-v2 is promoted).
name: clean-orders-v3
step: orders.clean_orders
baseline: v2
candidate: v3
gates:
  checks: { kind: checks, on_fail: rollback }
  same_rows: { kind: diff, max_only_baseline_share: 0.001, max_only_candidate_share: 0.001, on_fail: rollback }
  soak: { kind: soak, min_batches: 1 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [checks, soak] }
      - { mode: canary, percent: 10, gates: [checks, same_rows, soak] }
      - { mode: canary, percent: 50, gates: [checks, same_rows, soak] }
      - { mode: full, gates: [checks, same_rows, soak] }
risks:
  - { exposure: the new filter drops rows it should keep, mitigation: rows only in the baseline, gate: same_rows }
`,
    'steps/daily_revenue/v1.sql': `-- Net revenue per day and country: paid orders minus refunds.
SELECT
  order_date,
  country,
  count(*) FILTER (WHERE status = 'paid') AS orders,
  count(*) FILTER (WHERE status = 'refunded') AS refunds,
  CAST(round(CAST(sum(CASE WHEN status = 'paid' THEN amount_usd ELSE -amount_usd END) AS NUMERIC(18, 6)), 2) AS DOUBLE PRECISION) AS net_revenue_usd
FROM clean_orders
GROUP BY order_date, country
`,
    'flags/clean_orders_rollout.yaml': `# Which version of clean_orders runs. Off: every row comes from the baseline (default_variant).
# On: rows whose slice_key (order_id) falls in the gradual strategy's percentage come from v2;
# 0 % is a shadow run (both versions compute, v1 is published). Change it per environment with
#   sluice flags set clean_orders_version --enable --rollout 10 --reason "canary"
name: clean_orders_version
type: variant
scope: { pipeline: orders, step: clean_orders }
enabled: false
default_variant: v1
variants:
  - { name: v2, weight: 100 }
strategies:
  - kind: gradual
    percentage: 0
    stickiness: slice_key
    group_id: clean_orders
`,
    'contracts/cleaned_orders/v1.yaml': `# What cleaned_orders promises its consumers. A run whose output breaks the highest version
# here is not published. Change it by adding v2.yaml; \`sluice contract diff cleaned_orders@v1
# cleaned_orders@v2\` says whether the change breaks consumers.
dataset: cleaned_orders
version: 1
owner: data-platform
consumers: [daily_revenue, finance-dashboard]
primary_key: [order_id]
columns:
  - { name: order_id, type: BIGINT, nullable: false }
  - { name: customer_id, type: BIGINT, nullable: false }
  - { name: country, type: VARCHAR, nullable: false, description: the customer's country }
  - { name: ordered_at, type: TIMESTAMP, nullable: false }
  - { name: order_date, type: DATE, nullable: false, description: the partition }
  - { name: currency, type: VARCHAR, nullable: false, description: ISO 4217 code in upper case }
  - { name: amount, type: DOUBLE, nullable: false, description: in the order's currency }
  - { name: amount_usd, type: DOUBLE, nullable: false }
  - { name: status, type: VARCHAR, nullable: false }
  - { name: channel, type: VARCHAR }
checks:
  - { check: value_length_between, column: currency, min: 3, max: 3 }
  - { check: between, column: amount, min: 0 }
`,
    '.gitignore': '.sluice/\n',
  };
}

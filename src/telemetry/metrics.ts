import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Sluice's Prometheus metrics: throughput, errors, latency and freshness. Observers only: updating
 * a metric never changes what a run decides.
 */
export class SluiceMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({ name: 'sluice_runs_total', help: 'Pipeline runs by outcome', labelNames: ['pipeline', 'environment', 'status'], registers: [this.registry] });
  readonly rowsWritten = new Counter({ name: 'sluice_rows_written_total', help: 'Rows written into output versions', labelNames: ['pipeline', 'step', 'environment'], registers: [this.registry] });
  readonly stepSeconds = new Histogram({
    name: 'sluice_step_duration_seconds',
    help: 'Duration of one step of one run',
    labelNames: ['pipeline', 'step', 'environment'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly freshness = new Gauge({ name: 'sluice_dataset_newest_event_timestamp_seconds', help: 'Newest event time in the newest published partition', labelNames: ['dataset', 'environment'], registers: [this.registry] });

  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}

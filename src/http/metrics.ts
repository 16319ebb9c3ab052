import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** A circuit's state as a number, for a gauge: 0 closed, 1 half-open, 2 open. */
export const circuitStateValue = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The process's Prometheus metrics; one registry per app so tests can run several. A process that
 * runs a worker labels every metric with its worker id (`worker_id`), so the workers of a deployment
 * can be told apart.
 */
export function createMetrics(options: { workerId?: string } = {}) {
  const registry = new Registry();
  if (options.workerId) registry.setDefaultLabels({ worker_id: options.workerId });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'bulkchange_http_requests_total',
      help: 'HTTP requests served, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    carrierCalls: new Histogram({
      name: 'bulkchange_carrier_call_seconds',
      help: 'Carrier API calls, by system, action and outcome',
      labelNames: ['system', 'action', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    bulkChangesGivenUp: new Counter({
      name: 'bulkchange_bulk_changes_given_up_total',
      help: 'Bulk changes the engine gave up on (their job failed for good): each is failed with its reason',
      registers: [registry],
    }),
    carrierThrottled: new Counter({
      name: 'bulkchange_carrier_throttled_total',
      help: 'Carrier answers of 429 (too many requests) received by this process, by system',
      labelNames: ['system'],
      registers: [registry],
    }),
    limiterWaits: new Histogram({
      name: 'bulkchange_limiter_wait_seconds',
      help: "Time a carrier request waited for its account's limiter (rate, concurrency, Retry-After)",
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    circuits: new Gauge({
      name: 'bulkchange_carrier_circuit_state',
      help: "An account's circuit as this process sees it: 0 closed, 1 half-open, 2 open",
      labelNames: ['carrier_account_id'],
      registers: [registry],
    }),
    jobsClaimed: new Counter({
      name: 'bulkchange_worker_jobs_claimed_total',
      help: 'Jobs this worker claimed from the queue',
      registers: [registry],
    }),
    leaseRenewals: new Counter({
      name: 'bulkchange_worker_lease_renewals_total',
      help: 'Job leases this worker renewed while running them',
      registers: [registry],
    }),
    jobs: new Gauge({
      name: 'bulkchange_jobs',
      help: 'Jobs in the queue, by state',
      labelNames: ['state'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

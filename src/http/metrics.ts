import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The process's Prometheus metrics; one registry per app so tests can run several. */
export function createMetrics() {
  const registry = new Registry();
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
    jobs: new Gauge({
      name: 'bulkchange_jobs',
      help: 'Jobs in the queue, by state',
      labelNames: ['state'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

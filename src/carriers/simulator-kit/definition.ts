import type { IncomingHttpHeaders } from 'node:http';
import type { HTTPMethods } from 'fastify';
import type { z } from 'zod';
import type { DeviceStore, SimDevice } from './device-store.ts';
import type { Faults } from './faults.ts';

/** A carrier request as a simulator's handler sees it, free of Fastify. */
export interface SimRequest {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON; `undefined` when there was none (or it could not be parsed, for the call log). */
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface SimResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Why the kit itself answers a carrier request; the carrier renders its own envelope for it. */
export type SimFailureKind =
  | 'outage'
  | 'rate_limited'
  | 'too_many_concurrent'
  | 'injected_error'
  | 'bad_request'
  | 'not_found'
  | 'internal';

type ThrottleKind = 'rate_limited' | 'too_many_concurrent';

interface FailureAnswer {
  status: number;
  /** A human sentence the carrier may use or replace. */
  message: string;
}

export type SimFailure =
  | (FailureAnswer & {
      kind: ThrottleKind;
      /** How long until the limit lets a request through: whole seconds, at least 1 (as in Retry-After). */
      retryAfterSeconds: number;
    })
  | (FailureAnswer & { kind: Exclude<SimFailureKind, ThrottleKind> });

export interface CarrierRoute {
  method: HTTPMethods;
  /** Fastify route syntax, e.g. `/rws/api/v1/devices/:iccid`. */
  url: string;
  /** The name this operation has in the call log. */
  action: string;
  /** The lines a request names; also called for refused requests, so it must cope with any body. */
  iccids: (request: SimRequest) => string[];
  handle: (request: SimRequest) => SimResponse | Promise<SimResponse>;
}

/** A carrier-specific admin route under `/_sim` (no auth, no faults, not in the call log). */
export interface AdminRoute {
  method: HTTPMethods;
  /** Fastify route syntax relative to `/_sim`, e.g. `/callbacks`. */
  url: string;
  handle: (request: SimRequest) => SimResponse | Promise<SimResponse>;
}

/**
 * Faults of one carrier beside the kit's own: `GET /_sim/faults` shows them and `PUT /_sim/faults` takes
 * them (same rules: every field optional, unknown fields refused); a reset restores their defaults.
 */
export interface FaultsExtension {
  /** The carrier's fault fields, each optional; merged into the kit's strict patch schema. */
  patchSchema: z.ZodObject;
  /** The carrier's fault fields, shown beside the kit's. */
  get: () => object;
  /** Receives only the carrier's fields, already validated by `patchSchema`. */
  update: (patch: Record<string, unknown>) => void;
  reset: () => void;
}

/** Everything a carrier supplies to `createSimulatorServer`. */
export interface SimulatorDefinition<D extends SimDevice, Seed extends { iccid: string }> {
  store: DeviceStore<D>;
  routes: CarrierRoute[];
  defaultFaults: Partial<Faults>;
  /** One element of the `POST /_sim/devices` array. */
  seedSchema: z.ZodType<Seed>;
  /** Upsert: `existing` is the line already stored under the seed's ICCID, if any. */
  fromSeed: (seed: Seed, existing: D | undefined) => D;
  errorEnvelope: (failure: SimFailure) => unknown;
  /**
   * `false`: 429s carry no `Retry-After` header, for a carrier that tells the wait only in its envelope
   * (from `SimFailure.retryAfterSeconds`). Default: the header is sent.
   */
  retryAfterHeader?: false;
  /** Ring size of the call log; default 1,000,000. */
  callLogCapacity?: number;
  /** Extra admin routes under `/_sim`, e.g. a log of the callbacks a carrier sent. */
  adminRoutes?: AdminRoute[];
  /** Carrier-specific faults, e.g. whether callbacks are sent. */
  extraFaults?: FaultsExtension;
  /** Called by every reset, after the kit's own state is cleared: drop carrier state and pending work. */
  onReset?: () => void;
  /**
   * Called when the simulator closes, standalone or with the app it is mounted in: stop background work.
   * May be called twice (a standalone close runs the app's close hooks too).
   */
  onClose?: () => void;
  /**
   * Body parsers beside JSON, by content type, e.g. `application/x-www-form-urlencoded` for an OAuth
   * token endpoint. The raw body arrives as a string.
   */
  contentTypeParsers?: Record<string, (body: string) => unknown>;
}

import { z } from 'zod';
import type { DevicePatch } from '../core/flow.ts';

/**
 * The fields of `username_cost_center_change` (API §3, original §5.9). The username is the carrier's
 * (Jasper's device field, AT&T's contact name); the cost centres are ours and billing's (Rev.io custom
 * fields), so every carrier takes them.
 */
export const usernameField = z.string().trim().min(1).max(60);
export const costCenterFields = {
  costCenter1: z.string().trim().max(60).optional(),
  costCenter2: z.string().trim().max(60).optional(),
  costCenter3: z.string().trim().max(60).optional(),
};
export const costCenterNames = ['costCenter1', 'costCenter2', 'costCenter3'] as const;
export type CostCenterName = (typeof costCenterNames)[number];

/** What a carrier's username step reads. */
export const carrierUsernameRequest = z.object({ username: usernameField });
export type CarrierUsernameRequest = z.infer<typeof carrierUsernameRequest>;

export interface UsernameRequest {
  username?: string;
  costCenter1?: string;
  costCenter2?: string;
  costCenter3?: string;
}

/** The cost centres a row gives (an empty cell clears one: it is given, as ""). */
export const givenCostCenters = (request: UsernameRequest): Partial<Record<CostCenterName, string>> =>
  Object.fromEntries(
    costCenterNames.flatMap((name) => (request[name] === undefined ? [] : [[name, request[name]]])),
  );

/** The inventory's record of what the row set. */
export const usernamePatch = (request: UsernameRequest): DevicePatch => ({
  ...(request.username !== undefined ? { username: request.username } : {}),
  ...givenCostCenters(request),
});

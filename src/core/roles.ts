import type { Module } from './modules.ts';

export const roles = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { viewer: 0, operator: 1, approver: 2, admin: 3 };

export const roleAllows = (held: Role, needed: Role) => rank[held] >= rank[needed];

/** A person signed in to the portal with an e-mail and a password (ADR 0053). */
export interface PrincipalUser {
  id: string;
  email: string;
  name: string;
}

/**
 * Who is calling: resolved from an API key on every request, or from a portal session. For a person,
 * `keyId` and `keyName` name the user (their id and name), so code that only knows keys still names
 * whoever acted; `user` says it was a person.
 */
export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
  keyName: string;
  role: Role;
  /** Set when a person signed in; absent for an API key. */
  user?: PrincipalUser;
  /** The modules the caller may create and act in; absent: every module (API keys, admins' choice). */
  modules?: readonly Module[];
}

export const roles = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { viewer: 0, operator: 1, approver: 2, admin: 3 };

export const roleAllows = (held: Role, needed: Role) => rank[held] >= rank[needed];

/** Who is calling: resolved from an API key on every request. */
export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
  keyName: string;
  role: Role;
}

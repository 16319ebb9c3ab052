/** The credentials the Rev.io simulator knows (its default user and subscription key). */
export const revioSimulatorCredentials = {
  username: 'demo@bulkchange',
  password: 'demo-rev-password',
  subscriptionKey: 'demo-subscription-key',
};

/** The body of `PUT /api/v1/billing-connection` for a Rev.io simulator at `baseUrl`. */
export const revioConnection = (
  baseUrl: string,
  options: {
    credentials?: Partial<typeof revioSimulatorCredentials>;
    settings?: Record<string, unknown>;
  } = {},
) => ({
  system: 'revio',
  baseUrl,
  credentials: { ...revioSimulatorCredentials, ...options.credentials },
  ...(options.settings ? { settings: options.settings } : {}),
});

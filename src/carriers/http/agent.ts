import { Agent } from 'undici';

let agent: Agent | undefined;

/**
 * The keep-alive agent shared by every carrier client. Connections per origin are not capped here (the
 * limiters cap concurrency per account, and several accounts may share an origin), so an origin always
 * has at least `maxConcurrent` connections available.
 */
export const sharedAgent = (): Agent => {
  agent ??= new Agent({
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000 },
  });
  return agent;
};

/** Closes the shared agent (graceful shutdown); the next `sharedAgent()` makes a new one. */
export const closeSharedAgent = async (): Promise<void> => {
  const current = agent;
  agent = undefined;
  await current?.close();
};

import type { z } from 'zod';
import { NonRetryableError } from './errors.ts';
import type { EnqueueInput, JobContext, TaskBinding } from './types.ts';

/**
 * A kind of job, defined once where its work belongs: its name, the shape of its payload, and how its
 * jobs are enqueued. Enqueueing and handling both go through the definition, so a payload is typed at
 * both ends and checked when a job is claimed.
 */
export interface TaskDefinition<TPayload> {
  readonly name: string;
  readonly payload: z.ZodType<TPayload>;
  /** A job of this task, to enqueue in the caller's transaction. */
  job(payload: TPayload, options?: { runAt?: number }): EnqueueInput;
}

export function defineTask<TPayload>(spec: {
  name: string;
  payload: z.ZodType<TPayload>;
  /** At most one pending job per key: enqueueing again only brings the pending one forward. */
  key?: (payload: TPayload) => string;
  maxAttempts?: number;
}): TaskDefinition<TPayload> {
  return {
    name: spec.name,
    payload: spec.payload,
    job: (payload, options = {}) => ({
      task: spec.name,
      payload,
      ...(spec.key ? { key: spec.key(payload) } : {}),
      ...(options.runAt !== undefined ? { runAt: options.runAt } : {}),
      ...(spec.maxAttempts !== undefined ? { maxAttempts: spec.maxAttempts } : {}),
    }),
  };
}

/** Binds a handler to a task; the worker hands it the payload already checked against the task's shape. */
export function handleTask<TPayload>(
  task: TaskDefinition<TPayload>,
  handler: (payload: TPayload, context: JobContext) => Promise<void>,
  options: { onGiveUp?: (payload: TPayload, reason: string) => Promise<void> } = {},
): TaskBinding {
  const { onGiveUp } = options;
  return {
    name: task.name,
    ...(onGiveUp
      ? {
          onGiveUp: async (payload: unknown, reason: string) => {
            const parsed = task.payload.safeParse(payload);
            // A payload not of the task's shape names no work that could be marked.
            if (parsed.success) await onGiveUp(parsed.data, reason);
          },
        }
      : {}),
    handler: async (payload, context) => {
      const parsed = task.payload.safeParse(payload);
      if (!parsed.success) {
        throw new NonRetryableError(`Invalid payload for ${task.name}: ${parsed.error.message}`, {
          code: 'INVALID_PAYLOAD',
        });
      }
      await handler(parsed.data, context);
    },
  };
}

/**
 * The worker's handlers, checked at start-up: every task the build defines has exactly one, and none
 * is bound to a task the build does not define. A missing handler would leave its jobs to fail later.
 */
export function taskHandlers(
  defined: readonly Pick<TaskDefinition<unknown>, 'name'>[],
  bindings: readonly TaskBinding[],
): Record<string, TaskBinding> {
  const handlers: Record<string, TaskBinding> = {};
  for (const binding of bindings) {
    if (Object.hasOwn(handlers, binding.name)) throw new Error(`Task ${binding.name} has two handlers`);
    handlers[binding.name] = binding;
  }
  const names = new Set(defined.map((task) => task.name));
  const missing = [...names].filter((name) => !Object.hasOwn(handlers, name));
  const unknown = Object.keys(handlers).filter((name) => !names.has(name));
  if (missing.length > 0) throw new Error(`No handler for task(s): ${missing.join(', ')}`);
  if (unknown.length > 0) throw new Error(`Handler(s) for undefined task(s): ${unknown.join(', ')}`);
  return handlers;
}

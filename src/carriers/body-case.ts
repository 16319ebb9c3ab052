import { z } from 'zod';

/**
 * The key casing of a carrier's JSON bodies. POND and Teal publish no wire documents, and the original
 * was C# whose serialiser settings are not visible: an account may say its API wants `PascalCase`
 * (`{"Entries": [...]}`) instead of the `camelCase` the original's models suggest.
 */
export const bodyCases = ['camel', 'pascal'] as const;
export type BodyCase = (typeof bodyCases)[number];

const recaseKey = (key: string, to: BodyCase) =>
  key === '' ? key : (to === 'pascal' ? key[0].toUpperCase() : key[0].toLowerCase()) + key.slice(1);

/** A deep copy of `value` with every object key's first letter in `to`'s case; values are kept. */
export function recase(value: unknown, to: BodyCase): unknown {
  if (Array.isArray(value)) return value.map((item) => recase(item, to));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [recaseKey(key, to), recase(item, to)]),
    );
  }
  return value;
}

/** A body as the account's API wants it: ours are camelCase, so only `pascal` changes anything. */
export const outgoing = (body: unknown, bodyCase: BodyCase): unknown =>
  bodyCase === 'camel' ? body : recase(body, bodyCase);

/** A response schema that first reads the carrier's keys in camelCase, whichever case it answers in. */
export const incoming = <T extends z.ZodType>(schema: T, bodyCase: BodyCase) =>
  bodyCase === 'camel' ? schema : z.preprocess((body) => recase(body, 'camel'), schema);

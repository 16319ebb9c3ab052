import { z } from 'zod';

/** The paths a resource lets a JSON-Patch replace, each with the schema of its value. */
export type PatchPaths = Record<`/${string}`, z.ZodType>;
export type PatchChanges<P extends PatchPaths> = { -readonly [K in keyof P]?: z.infer<P[K]> };

const operationsSchema = z
  .array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional() }))
  .min(1, 'the patch has no operation');

/**
 * Reads a JSON-Patch document (RFC 6902) in which Rev.io takes only `replace` of known fields. The whole
 * patch is checked before anything changes, so a refused patch leaves the resource as it was.
 */
export const parseJsonPatch = <P extends PatchPaths>(
  body: unknown,
  paths: P,
): { changes: PatchChanges<P> } | { problem: string } => {
  const operations = operationsSchema.safeParse(body);
  if (!operations.success) {
    return { problem: `A JSON-Patch array is expected: ${operations.error.issues[0].message}` };
  }
  const changes: Record<string, unknown> = {};
  for (const { op, path, value } of operations.data) {
    if (op !== 'replace') return { problem: `Unsupported operation ${op}: only replace is allowed` };
    if (!Object.hasOwn(paths, path)) return { problem: `Unsupported path ${path}` };
    const parsed = (paths as PatchPaths)[path as keyof PatchPaths].safeParse(value);
    if (!parsed.success) return { problem: `${path}: ${parsed.error.issues[0].message}` };
    changes[path] = parsed.data;
  }
  return { changes: changes as PatchChanges<P> };
};

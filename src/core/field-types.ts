import { z } from 'zod';

/**
 * Row field types that CSV cells and JSON both feed: a CSV cell is always text, so lists and yes/no
 * arrive as "A|B" or "yes" where JSON has arrays and booleans.
 */

/** CSV cells say yes in many ways; JSON says true. */
export const yesNo = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const text = value.trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(text)) return true;
  if (['false', 'no', 'n', '0', ''].includes(text)) return false;
  ctx.addIssue({ code: 'custom', message: `"${value}" is not yes or no` });
  return z.NEVER;
});

/** "A|B", "A;B", "A, B" or a JSON list. */
const listOf = <T>(items: z.ZodType<T, unknown>) =>
  z
    .union([z.array(z.union([z.string(), z.number()])), z.string()])
    .transform((value) => (Array.isArray(value) ? value.map(String) : value.split(/[|;,\s]+/)))
    .transform((values) => values.map((value) => value.trim()).filter((value) => value !== ''))
    .pipe(z.array(items) as unknown as z.ZodType<T[], string[]>);

/** Carrier feature codes (SOCs). */
export const codeList = listOf(
  z.string().regex(/^[A-Z0-9_]{2,20}$/, 'A code is 2–20 capital letters, digits or _'),
) as z.ZodType<string[], unknown>;

/** Catalog ids or rates. */
export const numberList = listOf(z.coerce.number().positive());

/** An id from one of our catalogs, given as text or a number. */
export const catalogId = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .pipe(z.string().min(1).max(64));

/**
 * An object request schema with more fields (a billing post-step's, say). It stays one object schema,
 * so intake still sees every field a CSV may carry.
 */
export function withFields<T, TFields extends z.ZodRawShape>(
  schema: z.ZodType<T>,
  fields: TFields,
): z.ZodType<T & z.output<z.ZodObject<TFields>>> {
  if (!(schema instanceof z.ZodObject)) {
    throw new TypeError('Only an object request schema can take more fields');
  }
  // zod types an extended object of unknown shape loosely; the fields are exactly these two sets.
  return schema.extend(fields) as z.ZodType<T & z.output<z.ZodObject<TFields>>>;
}

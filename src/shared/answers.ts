import { z } from 'zod';

/**
 * Pieces of the API's answer schemas (ADR 0058): the OpenAPI document shows them, and the tests check
 * every answer against them. Each view's own schema sits beside the view that builds the answer.
 */

/** A time as every answer shows it: ISO-8601 UTC (`shared/time.ts`). */
export const isoTime = z.string().describe('ISO-8601 UTC');

/** A JSON object whose keys the answer does not fix (options, settings, a carrier's request). */
export const jsonObject = z.record(z.string(), z.unknown());

/** One page of a list (API §1): `nextCursor` is null on the last page. */
export const pageOf = <Item extends z.ZodType>(item: Item) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
  });

/** An answer with no body (`204`). */
export const noContent = z.null().describe('No content');

/** A body sent as it is (a buffer or a stream): never serialized, documented as bytes. */
const bytes = z.any().meta({ type: 'string', format: 'binary' });

/**
 * An answer that is not JSON: a file download (results, exports, templates; `content-disposition`
 * names the file) or an event stream, by its media types.
 */
export const fileAnswer = (description: string, contentTypes: readonly string[]) => ({
  description,
  content: Object.fromEntries(contentTypes.map((type) => [type, { schema: bytes }])),
});

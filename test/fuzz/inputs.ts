import fc from 'fast-check';

/**
 * The raw material of generated requests: text a parser or a database may choke on, JSON of any shape,
 * and the encodings of a URL. Valid values come from the routes (`routes.ts`); these are mixed in.
 */

/** Strings that have broken parsers, databases or templates somewhere. */
export const specialStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '../../etc/passwd',
  '..%2f..%2f',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '"; DROP TABLE devices; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a template injection, sent as it is.
  '${jndi:ldap://x}',
  '{{7*7}}',
  '\uD800',
  '\uDC00x',
  '\uFFFF',
  '\u202E',
  'ü',
  '🙂',
  'x'.repeat(5_000),
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '1e-300',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '2026-02-30T25:61:00Z',
  '8.9012E+19',
  '89019000000000000000',
  '\r\n',
  '\t',
  '\\',
  '=cmd|/c calc',
] as const;

export const weirdText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...specialStrings) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

export const weirdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -1, 1e-300, 1e308, -1e308, 2 ** 53 + 1, 0.5, 86_400_001),
);

export const weirdScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: weirdText },
  { weight: 2, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Any JSON value, keys included, a few levels deep. */
export const weirdJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    weirdScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(weirdText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A valid value most of the time; sometimes anything. */
export const mostly = <T>(valid: fc.Arbitrary<T>, weight = 4): fc.Arbitrary<T | unknown> =>
  fc.oneof({ weight, arbitrary: valid }, { weight: 1, arbitrary: weirdJson });

/**
 * An object as a caller might send it: often valid (the `required` fields and some of the rest), often
 * mostly valid (fields dropped or replaced by anything), sometimes with unknown fields, sometimes
 * anything at all.
 */
export function mutatedObject(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = [],
): fc.Arbitrary<unknown> {
  const valid = fc.record(fields, { requiredKeys: required });
  const mutated = fc.record(
    Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, mostly(value)])),
    { requiredKeys: [] },
  );
  return fc.oneof(
    { weight: 5, arbitrary: valid },
    { weight: 4, arbitrary: mutated },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.dictionary(weirdText, weirdJson, { maxKeys: 3 }))
        .map(([known, extra]) => ({ ...(known as object), ...extra })),
    },
    { weight: 1, arbitrary: weirdJson },
  );
}

/** A URL path segment: a valid one, or an encoded or raw oddity (still a well-formed request target). */
export const pathSegment = (valid: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...valid).map(encodeURIComponent) },
    {
      weight: 2,
      arbitrary: weirdText.map((text) => encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '?'))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%zz', '%00', '..', '%2e%2e', '%2F', 'a;b', 'x'.repeat(2_000)),
    },
  );

/** A query string from known parameters (valid and odd values) and unknown ones. */
export function queryString(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(known).map(([name, value]) =>
    fc.option(
      fc.tuple(
        fc.constant(name),
        fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: weirdText }),
      ),
      { nil: undefined, freq: 2 },
    ),
  );
  const extra = fc.array(fc.tuple(weirdText, weirdText), { maxLength: 2 });
  const raw = fc.constantFrom('', '?', '?&&', '?a=%', '?a=%zz', '?limit=1&limit=2', '?%00=1', '?cursor[]=1');
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(fc.tuple(...entries), extra).map(([chosen, more]) => {
        const pairs = [...chosen.filter((pair) => pair !== undefined), ...more] as Array<[string, string]>;
        const text = pairs
          .map(
            ([name, value]) =>
              `${encodeURIComponent(stripSurrogates(name))}=${encodeURIComponent(stripSurrogates(value))}`,
          )
          .join('&');
        return text ? `?${text}` : '';
      }),
    },
    { weight: 1, arbitrary: raw },
  );
}

/** Lone surrogates cannot be percent-encoded; the URL gets a stand-in. */
export const stripSurrogates = (text: string) => text.replace(/[\uD800-\uDFFF]/g, '?');

/** Header values that HTTP can carry (no CR, LF or NUL): oddities within what a client can send. */
export const headerText: fc.Arbitrary<string> = weirdText.map((text) =>
  [...text]
    .map((char) => char.codePointAt(0)!)
    .filter((code) => code === 0x09 || (code >= 0x20 && code !== 0x7f))
    .map((code) => (code > 0xff ? '?' : String.fromCharCode(code)))
    .join(''),
);

/** JSON text: the value encoded, or text that is almost (or not at all) JSON. */
export const jsonText = (value: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: value.map((item) => JSON.stringify(item) ?? 'null') },
    { weight: 1, arbitrary: value.map((item) => (JSON.stringify(item) ?? 'null').slice(0, -1)) },
    { weight: 1, arbitrary: value.map((item) => `\uFEFF${JSON.stringify(item)}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'null',
        '"x"',
        '1',
        '[',
        '{"a":',
        '{"__proto__":{"x":1}}',
        '{"a":1,"a":2}',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 200, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    },
    { weight: 1, arbitrary: weirdText },
  );

import fc from 'fast-check';
import { jsonText, weirdJson, weirdText } from './inputs.ts';

/** A request body as sent: its content type (undefined: no header) and its bytes. */
export interface Body {
  contentType: string | undefined;
  bytes: Buffer;
}

const body = (contentType: string | undefined, text: string | Buffer): Body => ({
  contentType,
  bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
});

/** Content types a client might send, right, wrong or odd. */
export const anyContentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'text/csv',
  'application/csv',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/xml',
  'application/octet-stream',
  'application/vnd.ms-excel',
  '*/*',
  'application/json;;;',
  'text/csv; boundary=x',
);

export const jsonBody = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 8, arbitrary: jsonText(value).map((text) => body('application/json', text)) },
    {
      weight: 1,
      arbitrary: fc.tuple(anyContentType, jsonText(value)).map(([type, text]) => body(type, text)),
    },
  );

/** A body where none is expected: none, JSON, or bytes. */
export const strayBody: fc.Arbitrary<Body | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: jsonBody(weirdJson) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(anyContentType, fc.uint8Array({ maxLength: 64 }))
      .map(([t, b]) => body(t, Buffer.from(b))),
  },
);

/** A CSV cell: a good value, or one spreadsheets and attackers produce. */
const cell = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 2, arbitrary: weirdText.map((text) => text.replaceAll('\u0000', '')) },
    { weight: 1, arbitrary: fc.constantFrom('"unclosed', 'a"b', '"a""b"', '8.9012E+19', '=1+1', ';', ',') },
  );

/** CSV text: a header of known and odd columns, then rows of good and odd cells. */
export function csvText(
  columns: string[],
  values: Record<string, fc.Arbitrary<string>>,
): fc.Arbitrary<string> {
  const header = fc.oneof(
    { weight: 6, arbitrary: fc.subarray(columns, { minLength: 1 }) },
    { weight: 1, arbitrary: fc.array(weirdText, { minLength: 1, maxLength: 4 }) },
  );
  return fc
    .tuple(header, fc.constantFrom('\n', '\r\n'), fc.constantFrom(',', ';'), fc.boolean(), fc.nat({ max: 6 }))
    .chain(([names, newline, delimiter, bom, rows]) =>
      fc
        .array(
          fc.tuple(
            ...names.map((name) => cell(Object.hasOwn(values, name) ? values[name] : fc.constant('x'))),
          ),
          {
            minLength: rows,
            maxLength: rows,
          },
        )
        .map((lines) => {
          const text =
            [names.join(delimiter), ...lines.map((line) => line.join(delimiter))].join(newline) + newline;
          return (bom ? '\uFEFF' : '') + text;
        }),
    );
}

export const csvBody = (text: fc.Arbitrary<string>): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 8, arbitrary: text.map((csv) => body('text/csv', csv)) },
    { weight: 1, arbitrary: text.map((csv) => body('text/csv', Buffer.from(csv, 'utf16le'))) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => body('text/csv', Buffer.from(bytes))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(body('text/csv', ''), body('application/vnd.ms-excel', 'iccid\n')),
    },
  );

/** One multipart part: form fields, or a file. */
interface Part {
  name: string;
  value: string;
  filename?: string;
}

/** Multipart bodies: well-formed with fields then a file, and every way to get that wrong. */
export function multipartBody(fields: fc.Arbitrary<Part[]>, file: fc.Arbitrary<string>): fc.Arbitrary<Body> {
  const boundary = fc.oneof(
    { weight: 4, arbitrary: fc.constant('fuzzboundary42') },
    { weight: 1, arbitrary: fc.constantFrom('a', '-'.repeat(70), 'x y', '"quoted"', 'ü') },
  );
  const fileName = fc.oneof(
    { weight: 4, arbitrary: fc.constant('lines.csv') },
    { weight: 1, arbitrary: weirdText.map((text) => text.replace(/[\r\n"]/g, '')) },
  );
  const shape = fc.constantFrom(
    'good',
    'good',
    'good',
    'good',
    'two-files',
    'field-after-file',
    'no-file',
    'truncated',
    'no-closing',
    'bad-part-header',
    'wrong-boundary',
    'no-boundary-param',
    'garbage',
    'file-other-name',
    'empty',
  );
  return fc.tuple(fields, file, boundary, fileName, shape).map(([parts, csv, mark, name, kind]) => {
    const filePart: Part = {
      name: kind === 'file-other-name' ? 'upload' : 'file',
      value: csv,
      filename: name,
    };
    let list: Part[] = [...parts, filePart];
    if (kind === 'two-files') list = [...parts, filePart, filePart];
    if (kind === 'field-after-file') list = [...parts, filePart, { name: 'dryRun', value: 'true' }];
    if (kind === 'no-file') list = parts;
    const encode = (part: Part) =>
      `--${mark}\r\nContent-Disposition: form-data; name="${part.name.replace(/["\r\n]/g, '')}"` +
      (part.filename !== undefined ? `; filename="${part.filename}"\r\nContent-Type: text/csv` : '') +
      `\r\n\r\n${part.value}\r\n`;
    let text = list.map(encode).join('') + `--${mark}--\r\n`;
    if (kind === 'truncated') text = text.slice(0, Math.max(0, text.length - 30));
    if (kind === 'no-closing') text = list.map(encode).join('');
    if (kind === 'bad-part-header') text = `--${mark}\r\nNot-A-Header\r\n\r\nx\r\n--${mark}--\r\n`;
    if (kind === 'garbage') text = 'this is not multipart\r\n--\r\n';
    if (kind === 'empty') text = '';
    const declared = kind === 'wrong-boundary' ? 'otherboundary' : mark;
    const contentType =
      kind === 'no-boundary-param'
        ? 'multipart/form-data'
        : `multipart/form-data; boundary=${/[^A-Za-z0-9'()+_,./:=?-]/.test(declared) ? `"${declared}"` : declared}`;
    return body(contentType, text);
  });
}

/** `application/x-www-form-urlencoded`: known fields with good or odd values, and unknown ones. */
export function formBody(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<Body> {
  const record = fc.record(
    Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [
        name,
        fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: weirdText }),
      ]),
    ),
    { requiredKeys: [] },
  );
  const valid = fc.record(fields);
  const encode = (values: Record<string, unknown>) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(values))
      params.append(name.replace(/[\uD800-\uDFFF]/g, '?'), String(value).replace(/[\uD800-\uDFFF]/g, '?'));
    return body('application/x-www-form-urlencoded', params.toString());
  };
  return fc.oneof(
    { weight: 5, arbitrary: valid.map(encode) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(record, fc.dictionary(weirdText, weirdText, { maxKeys: 2 }))
        .map(([known, extra]) => {
          const params = new URLSearchParams();
          for (const [name, value] of Object.entries({ ...known, ...extra }))
            params.append(
              name.replace(/[\uD800-\uDFFF]/g, '?'),
              String(value).replace(/[\uD800-\uDFFF]/g, '?'),
            );
          return body('application/x-www-form-urlencoded', params.toString());
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('%', 'a=%zz', '=&=', 'a'.repeat(3_000), '_csrf=%00')
        .map((text) => body('application/x-www-form-urlencoded', text)),
    },
    { weight: 1, arbitrary: jsonBody(weirdJson) },
  );
}

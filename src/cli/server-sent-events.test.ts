import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readServerSentEvents } from './server-sent-events.ts';

async function* chunks(...parts: Array<string | Uint8Array>) {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

const collect = async (source: AsyncIterable<Uint8Array>) => {
  const events = [];
  for await (const event of readServerSentEvents(source)) events.push(event);
  return events;
};

describe('readServerSentEvents', () => {
  it('reads events split anywhere across chunks, with CRLF, comments and multi-line data', async () => {
    const euro = new TextEncoder().encode('€');
    const events = await collect(
      chunks(
        ': keep-alive\n\nevent: prog',
        'ress\r\ndata: {"a":1}\r',
        '\n\r\ndata: line 1\r',
        '\ndata:line 2\n\nevent: done\ndata: ',
        euro.slice(0, 2),
        euro.slice(2),
        '\n\n',
      ),
    );
    assert.deepEqual(events, [
      { event: 'progress', data: '{"a":1}' },
      { event: 'message', data: 'line 1\nline 2' },
      { event: 'done', data: '€' },
    ]);
  });

  it('drops an event the stream cut off before its blank line', async () => {
    assert.deepEqual(await collect(chunks('event: progress\ndata: {}\n\nevent: done\ndata: {}\n')), [
      { event: 'progress', data: '{}' },
    ]);
  });
});

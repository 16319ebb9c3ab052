import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  InvalidAllowEntryError,
  OutboundAddressPolicy,
  parseIpAddress,
  parseIpv4,
  parseIpv6,
  rangeOf,
} from './address-policy.ts';

const dotted = (bytes: Uint8Array | undefined) => bytes && [...bytes].join('.');
const rangeOfText = (text: string) => {
  const address = parseIpAddress(text);
  assert.ok(address, `${text} parses`);
  return rangeOf(address);
};

describe('address policy: reading addresses', () => {
  it('reads every IPv4 notation a URL or a resolver accepts', () => {
    for (const text of [
      '127.0.0.1',
      '2130706433',
      '0x7f000001',
      '0x7f.1',
      '0177.0.0.1',
      '127.1',
      '127.0.1',
      '127.0.0.1.',
    ])
      assert.equal(dotted(parseIpv4(text)), '127.0.0.1', text);
    assert.equal(dotted(parseIpv4('0')), '0.0.0.0');
    assert.equal(dotted(parseIpv4('4294967295')), '255.255.255.255');
    for (const text of [
      '256.0.0.1',
      '1.2.3.4.5',
      '0x100000000',
      '1.2.3.256',
      '08.1.1.1',
      '1..1',
      '',
      'example.com',
    ])
      assert.equal(parseIpv4(text), undefined, text);
  });

  it('reads IPv4 as the WHATWG URL parser does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('dec', 'hex', 'oct'),
        (numbers, base) => {
          const text = numbers
            .map((n) =>
              base === 'hex' ? `0x${n.toString(16)}` : base === 'oct' ? `0${n.toString(8)}` : String(n),
            )
            .join('.');
          let hostname: string | undefined;
          try {
            hostname = new URL(`http://${text}/`).hostname;
          } catch {
            hostname = undefined;
          }
          assert.equal(dotted(parseIpv4(text)), hostname, text);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('reads IPv6 in every form, as node:net does', () => {
    assert.equal(dotted(parseIpv6('::1')), '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1');
    assert.equal(dotted(parseIpv6('[::ffff:127.0.0.1]')), dotted(parseIpv6('::ffff:7f00:1')));
    assert.equal(dotted(parseIpv6('fe80::1%eth0')), dotted(parseIpv6('fe80::1')));
    assert.equal(dotted(parseIpv6('1:2:3:4:5:6:1.2.3.4')), '0.1.0.2.0.3.0.4.0.5.0.6.1.2.3.4');
    for (const text of ['::1::', '1:2:3:4:5:6:7:8:9', '12345::', ':1', 'g::', '::1.2.3', '::256.1.1.1'])
      assert.equal(parseIpv6(text), undefined, text);
    const group = fc.nat({ max: 0xffff }).map((n) => n.toString(16));
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.nat({ max: 7 }),
        fc.nat({ max: 8 }),
        (groups, from, length) => {
          // Any run of groups may be written `::`; both spellings are the same address.
          const full = groups.join(':');
          const to = Math.min(8, from + length);
          const short = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
          assert.ok(isIPv6(full));
          assert.deepEqual(
            parseIpv6(full),
            Uint8Array.from(
              groups.flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 255]),
            ),
          );
          if (isIPv6(short) && groups.slice(from, to).every((g) => g === '0'))
            assert.deepEqual(parseIpv6(short), parseIpv6(full), short);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('address policy: ranges', () => {
  const expected: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['2130706433', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['169.254.169.254', 'link_local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['2002:7f00:1::', 'loopback'],
    ['fe80::1', 'link_local'],
    ['febf::1', 'link_local'],
    ['fc00::1', 'private'],
    ['fdff::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['1.1.1.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ];
  for (const [text, range] of expected) {
    it(`${text} is ${range}`, () => assert.equal(rangeOfText(text), range));
  }
});

describe('address policy: the decision', () => {
  it('refuses every non-public address by default and allows public ones', () => {
    const policy = new OutboundAddressPolicy();
    assert.deepEqual(policy.refusal('127.0.0.1'), { range: 'loopback' });
    assert.deepEqual(policy.refusal('::ffff:10.0.0.1'), { range: 'private' });
    assert.equal(policy.refusal('8.8.8.8'), undefined);
    assert.deepEqual(
      policy.refusal('not-an-address'),
      { range: 'reserved' },
      'what cannot be read is refused',
    );
  });

  it('allows exactly the networks and host names the operator lists', () => {
    const policy = new OutboundAddressPolicy(['127.0.0.1', '10.1.0.0/16', '::1', 'Sim.Internal.']);
    assert.equal(policy.refusal('127.0.0.1'), undefined);
    assert.equal(policy.refusal('::ffff:127.0.0.1'), undefined, 'the mapped form of an allowed address');
    assert.deepEqual(policy.refusal('127.0.0.2'), { range: 'loopback' });
    assert.equal(policy.refusal('10.1.255.1'), undefined);
    assert.deepEqual(policy.refusal('10.2.0.1'), { range: 'private' });
    assert.equal(policy.refusal('::1'), undefined);
    assert.ok(policy.allowsHost('sim.internal'));
    assert.ok(!policy.allowsHost('other.internal'));
    assert.deepEqual(policy.refusal('169.254.169.254'), { range: 'link_local' });
  });

  it('names every entry it cannot read', () => {
    assert.throws(
      () => new OutboundAddressPolicy(['10.0.0.0/33', 'ok.example', 'bad host', '::/129', 'a/b/c']),
      (error: unknown) =>
        error instanceof InvalidAllowEntryError &&
        error.entries.join('|') === '10.0.0.0/33|bad host|::/129|a/b/c',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confirmationPhrase, typedConfirmation } from './destructive.ts';
import { href, html } from './html.ts';

describe('html', () => {
  it('escapes every interpolated value unless it is already markup', () => {
    const name = `<script>alert("x")</script>&'`;
    assert.equal(
      html`<p title="${name}">${name}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    assert.equal(html`<div>${html`<b>${name}</b>`}</div>`.value, `<div><b>${html`${name}`.value}</b></div>`);
  });

  it('renders arrays item by item and skips null, undefined and false', () => {
    assert.equal(
      html`${['<a>', html`<b></b>`]}|${null}${undefined}${false}|${0}`.value,
      '&lt;a&gt;<b></b>||0',
    );
  });

  it('builds URLs with encoded query values and without empty ones', () => {
    assert.equal(href('/portal/devices', { q: '89 01&x', cursor: '' }), '/portal/devices?q=89+01%26x');
    assert.equal(href('/portal/devices', { q: undefined }), '/portal/devices');
  });
});

describe('destructive changes', () => {
  it('asks for a typed phrase above 10 lines only, naming the most severe target', () => {
    assert.equal(typedConfirmation('status_update', new Set(['deactivated']), 10), undefined);
    assert.equal(
      typedConfirmation('status_update', new Set(['deactivated']), 2000),
      'deactivate 2,000 lines',
    );
    assert.equal(
      typedConfirmation('status_update', new Set(['suspended', 'retired']), 11),
      'retire 11 lines',
    );
    assert.equal(typedConfirmation('status_update', new Set(['active']), 5000), undefined);
    assert.equal(typedConfirmation('archival', new Set(), 12), 'archive 12 lines');
    assert.equal(typedConfirmation('carrier_rate_plan_change', new Set(), 500), undefined);
    assert.equal(confirmationPhrase('suspend', 1), 'suspend 1 line');
  });
});

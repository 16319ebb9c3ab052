import { html, type SafeHtml } from '../html.ts';

/** Lists page forward by cursor (API §1); the way back is to the first page. */
export function pager(options: { firstHref: string | null; nextHref: string | null }): SafeHtml {
  if (!options.firstHref && !options.nextHref) return html``;
  return html`<nav class="pager" aria-label="Pages">
  ${options.firstHref && html`<a href="${options.firstHref}">« First page</a>`}
  ${options.nextHref && html`<a href="${options.nextHref}" rel="next">Next page »</a>`}
</nav>`;
}

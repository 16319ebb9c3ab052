import { html, type SafeHtml } from '../html.ts';
import { label } from './format.ts';

/** A status as text with a colour class; the text alone carries the meaning. */
export const statusBadge = (status: string): SafeHtml =>
  html`<span class="badge badge-${status}" data-status-badge>${label(status)}</span>`;

import type { Counts } from '../../core/statuses.ts';
import { html, type SafeHtml } from '../html.ts';
import { count } from './format.ts';

/** Drawn left to right; what is still queued is the empty track. portal.js redraws the same segments. */
const segments = [
  { key: 'succeeded', of: (c: Counts) => c.succeeded },
  { key: 'failed', of: (c: Counts) => c.failed },
  { key: 'cancelled', of: (c: Counts) => c.cancelled },
  { key: 'active', of: (c: Counts) => c.inProgress + c.waiting },
] as const;

/** The SVG's width in user units; segments are sized in these. */
const WIDTH = 1000;

export const finishedRows = (counts: Counts) => counts.succeeded + counts.failed + counts.cancelled;

export function progressLabel(counts: Counts): string {
  const failed = counts.failed > 0 ? ` · ${count(counts.failed)} failed` : '';
  return `${count(finishedRows(counts))} / ${count(counts.total)} done${failed}`;
}

/**
 * A bulk change's rows by status as one bar. SVG rather than styled boxes: sizes are attributes, so the
 * page needs no inline styles (the portal's Content-Security-Policy forbids them).
 */
export function progressBar(view: { id: string; status: string; counts: Counts }): SafeHtml {
  const { counts } = view;
  let x = 0;
  const rects = segments.map((segment) => {
    const width = counts.total === 0 ? 0 : (segment.of(counts) / counts.total) * WIDTH;
    const rect = html`<rect class="segment segment-${segment.key}" data-segment="${segment.key}" x="${x.toFixed(1)}" y="0" width="${width.toFixed(1)}" height="10"></rect>`;
    x += width;
    return rect;
  });
  return html`<div class="progress" data-progress="${view.id}" role="progressbar" aria-label="Rows done"
  aria-valuemin="0" aria-valuemax="${counts.total}" aria-valuenow="${finishedRows(counts)}" aria-valuetext="${progressLabel(counts)}">
  <svg class="progress-track" viewBox="0 0 ${WIDTH} 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">${rects}</svg>
  <span class="progress-label" data-progress-label>${progressLabel(counts)}</span>
</div>`;
}

import { html, type SafeHtml } from '../html.ts';

const BAR = 2;
const HEIGHT = 40;

/**
 * A minute of per-second values as bars, with the limit as a dashed line: small enough for a card on
 * a phone, drawn server-side so the page needs no chart library.
 */
export function barChart(options: {
  series: number[];
  limit: number | null;
  description: string;
  tone: string;
}): SafeHtml {
  const width = options.series.length * BAR;
  const top = Math.max(1, options.limit ?? 0, ...options.series);
  const y = (value: number) => HEIGHT - (value / top) * (HEIGHT - 2);
  const bars = options.series.map(
    (value, index) =>
      html`<rect x="${index * BAR}" y="${y(value).toFixed(2)}" width="${BAR - 0.4}" height="${(HEIGHT - y(value)).toFixed(2)}"></rect>`,
  );
  const limit =
    options.limit === null
      ? ''
      : html`<line class="chart-limit" x1="0" x2="${width}" y1="${y(options.limit).toFixed(2)}" y2="${y(options.limit).toFixed(2)}"></line>`;
  return html`<svg class="chart chart-${options.tone}" viewBox="0 0 ${width} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${options.description}">${bars}${limit}</svg>`;
}

import type { PortalUser } from '../auth.ts';
import { html, type SafeHtml } from '../html.ts';

export const csrfField = (user: PortalUser): SafeHtml =>
  html`<input type="hidden" name="_csrf" value="${user.session.csrfToken}">`;

/** A POST as a button: the action happens only on submit, never on a link a crawler could follow. */
export function actionButton(options: {
  user: PortalUser;
  action: string;
  label: string;
  /** Asked with `confirm()` before the form is sent (the server does not depend on it). */
  confirm?: string;
  variant?: 'primary' | 'danger' | 'plain';
  hidden?: Record<string, string>;
}): SafeHtml {
  const confirm = options.confirm ? html` data-confirm="${options.confirm}"` : '';
  return html`<form method="post" action="${options.action}" class="inline-form"${confirm}>
  ${csrfField(options.user)}
  ${Object.entries(options.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <button type="submit" class="button button-${options.variant ?? 'plain'}">${options.label}</button>
</form>`;
}

/** The problems of a refused request, as the API reports them. */
export function problemList(
  message: string,
  details: Array<{ sheet?: string; row?: number; field?: string; code: string; message: string }> = [],
): SafeHtml {
  return html`<div class="alert alert-error" role="alert">
  <p>${message}</p>
  ${
    details.length > 0 &&
    html`<ul>${details
      .slice(0, 50)
      .map(
        (detail) =>
          html`<li>${detail.sheet && html`Sheet ${detail.sheet}, `}${detail.row !== undefined && html`${detail.sheet ? 'row' : 'Row'} ${detail.row}: `}${detail.field && html`<code>${detail.field}</code> `}<strong>${detail.code}</strong> ${detail.message}</li>`,
      )}</ul>`
  }
  ${details.length > 50 && html`<p>… and ${details.length - 50} more.</p>`}
</div>`;
}

import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import type { ApprovalPolicyView } from '../../bulk-changes/approval-policy.ts';
import type { PortalUser } from '../auth.ts';
import { requirePortalRole } from '../auth.ts';
import { count, time } from '../components/format.ts';
import { csrfField } from '../components/forms.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

/** A number of lines, or empty for off. */
const linesField = (min: number) =>
  z
    .string()
    .trim()
    .transform((text) => (text === '' ? null : Number(text)))
    .pipe(z.number().int().min(min).max(100_000_000).nullable());

const policyForm = z
  .object({ approvalAboveLines: linesField(0), destructiveLinesPerHour: linesField(1) })
  .loose();

const fieldValue = (lines: number | null) => (lines === null ? '' : String(lines));

/** The tenant's approval policy and blast-radius cap (docs/guardrails.md), for admins to read and set. */
function guardrailsPage(user: PortalUser, policy: ApprovalPolicyView): SafeHtml {
  return page({
    title: 'Guardrails',
    user,
    section: 'guardrails',
    body: html`<h1>Guardrails</h1>
<p class="hint">Destructive changes deactivate, retire or suspend lines, archive them or change their identifiers.</p>
<form method="post" action="/portal/guardrails" class="stack card" id="guardrails-form">
  ${csrfField(user)}
  <div class="field"><label for="approval-above-lines">Hold destructive changes of more lines than this for a second person's approval (empty: never)</label>
    <input id="approval-above-lines" name="approvalAboveLines" inputmode="numeric" value="${fieldValue(policy.approvalAboveLines)}"></div>
  <div class="field"><label for="destructive-lines-per-hour">At most this many destructive line changes an hour (empty: no cap)</label>
    <input id="destructive-lines-per-hour" name="destructiveLinesPerHour" inputmode="numeric" value="${fieldValue(policy.destructiveLinesPerHour)}"></div>
  <p class="hint" data-policy-summary>Now: ${policy.approvalAboveLines === null ? 'no approval needed' : `approval above ${count(policy.approvalAboveLines)} lines`}; ${policy.destructiveLinesPerHour === null ? 'no cap' : `at most ${count(policy.destructiveLinesPerHour)} destructive line changes an hour`}${policy.updatedAt && html` (since ${time(policy.updatedAt)})`}.</p>
  <button type="submit" class="button button-primary">Save guardrails</button>
</form>`,
  });
}

export function guardrailsRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/guardrails', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    return sendHtml(reply, guardrailsPage(user, await deps.approvalPolicies.get(user.principal.tenantId)));
  });

  app.post('/guardrails', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const { approvalAboveLines, destructiveLinesPerHour } = policyForm.parse(request.body ?? {});
    await deps.approvalPolicies.set(
      user.principal.tenantId,
      { approvalAboveLines, destructiveLinesPerHour },
      actorOf(user.principal),
    );
    return reply.redirect('/portal/guardrails', 303);
  });
}

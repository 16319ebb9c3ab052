import { z } from 'zod';
import { XLSX_CONTENT_TYPE } from '../../bulk-changes/upload-input.ts';
import { requirePortalRole } from '../auth.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

/**
 * The activation workbook template of a Telegence account (ADR 0052), as the API hands it out; the
 * filled-in workbook is uploaded on the new bulk change page like any XLSX.
 */
export function activationWorkbookRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/carrier-accounts/:id/activation-workbook.xlsx',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'viewer');
      const template = await deps.activationTemplates.build(user.principal.tenantId, request.params.id);
      return reply
        .header('content-type', XLSX_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="activation-workbook-${request.params.id}.xlsx"`)
        .send(template);
    },
  );
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { normalisedStatuses } from '../core/statuses.ts';
import type { Devices } from '../devices/devices-service.ts';
import { fileAnswer } from '../shared/answers.ts';
import type { BulkChanges } from './bulk-changes-service.ts';
import { exportFormats, exportHeaders, selectionForEditing } from './selection-export.ts';
import { oneValueChangeTypes } from './target-state.ts';
import { XLSX_CONTENT_TYPE } from './upload-input.ts';

export const selectionExportRoutes: FastifyPluginAsyncZod<{
  auth: KeyAuth;
  bulkChanges: BulkChanges;
  devices: Devices;
}> = async (app, { auth, bulkChanges, devices }) => {
  app.get(
    '/devices/export',
    {
      onRequest: requireRole(auth, 'viewer'),
      schema: {
        tags: ['devices'],
        summary:
          'Export a selection of lines for editing: upload the file back to change only what was edited',
        description:
          'The lines GET /devices selects (one carrier account: a bulk change runs on one), as CSV or XLSX: the column the account names lines by, ' +
          'then for each field of the change type the inventory holds, current_<field> (read-only, ignored on upload) and <field> pre-filled with the same value. ' +
          "Edit the <field> cells and POST the file as a bulk change of that changeType: only edited rows (a <field> unlike its own current_<field> cell) whose value is not already the line's in the inventory are sent; " +
          'the others are left out (skippedRows in the 201; 422 NOTHING_TO_CHANGE when nothing was edited), blank cells keep the line as it is (ADR 0059).',
        querystring: z.object({
          changeType: z.enum(oneValueChangeTypes),
          format: z.enum(exportFormats).default('csv'),
          carrierAccountId: z.string().min(1),
          iccid: z.string().optional(),
          msisdn: z.string().optional(),
          status: z.enum(normalisedStatuses).optional(),
          carrierRatePlan: z.string().optional(),
          billingCustomerId: z.string().optional(),
        }),
        response: { 200: fileAnswer('The lines, to edit and upload back', ['text/csv', XLSX_CONTENT_TYPE]) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { changeType, format, ...filter } = request.query;
      const editable = await bulkChanges.editableFields(principal, filter.carrierAccountId, changeType);
      const file = selectionForEditing(editable, devices.matching(principal.tenantId, filter), format);
      return reply.headers(exportHeaders(changeType, format)).send(file);
    },
  );
};

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sliceForLine } from './row-slice.ts';

const iccid = '89148000000000000011';
const other = '89148000000000000029';

it("keeps a ThingSpace activation's device of the line and drops the others'", () => {
  const request = {
    method: 'POST',
    url: 'https://thingspace.example/m2m/v1/devices/actions/activate',
    body: {
      devices: [
        { deviceIds: [{ kind: 'iccid', id: other }] },
        {
          deviceIds: [
            { kind: 'iccid', id: iccid },
            { kind: 'imei', id: '353911080000001' },
          ],
        },
      ],
      servicePlan: 'M2M_4G',
    },
  };
  assert.deepEqual(sliceForLine(request, [iccid, null]), {
    ...request,
    body: { devices: [request.body.devices[1]], servicePlan: 'M2M_4G' },
  });
});

it('keeps a Telegence activation body whole when its characteristics name the line', () => {
  const line = (sim: string) => ({
    service: {
      serviceCharacteristic: [
        { name: 'sim', value: sim },
        { name: 'IMEI', value: '1' },
      ],
    },
  });
  assert.deepEqual(sliceForLine({ body: [line(other), line(iccid)] }, [iccid]), { body: [line(iccid)] });
});

it('leaves a document that does not name the line, and short identifiers, as they are', () => {
  const response = { requestId: 'abc-123', statuses: [{ id: other }] };
  assert.deepEqual(sliceForLine(response, [iccid]), response);
  assert.deepEqual(sliceForLine(response, ['12']), response);
  assert.equal(sliceForLine(null, [iccid]), null);
});

it('matches numbers and identifiers inside longer strings', () => {
  const msisdn = '5125550100';
  const document = {
    lines: [{ number: 5125550100 }, { number: 5125550199 }],
    urls: [`/lines/${msisdn}`, '/x'],
  };
  assert.deepEqual(sliceForLine(document, [msisdn]), {
    lines: [{ number: 5125550100 }],
    urls: [`/lines/${msisdn}`],
  });
});

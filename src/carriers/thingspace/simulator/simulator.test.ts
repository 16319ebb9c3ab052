import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CallEntry } from '../../simulator-kit/call-log.ts';
import { httpJson, seedLines, type TestRequest, type TestResponse } from '../../simulator-kit/test-client.ts';
import {
  type CallbackDelivery,
  createThingSpaceSimulator,
  type ThingSpaceSimLine,
  type ThingSpaceSimulator,
  type ThingSpaceSimulatorOptions,
  thingSpaceDefaultAccountName,
  thingSpaceErrorCodes,
  thingSpaceGatewayCodes,
} from './simulator.ts';

const account = thingSpaceDefaultAccountName;
const iccids = ['89148000000800784259', '89148000000800784267', '89148000000800784275'];
const imeis = ['990013907835573', '990013907835581', '990013907835599'];
const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const demoClient = basic('demo-client-id', 'demo-client-secret');
const form = 'application/x-www-form-urlencoded';
const minute = 60_000;
const byIccid = (iccid: string) => ({ deviceIds: [{ kind: 'iccid', id: iccid }] });

let sim: ThingSpaceSimulator;
let base: string;
let now = Date.parse('2025-03-10T12:00:00Z');
const receivers: FastifyInstance[] = [];

/** Real timers and short delays unless a test passes a `clock`. */
const start = async (options: ThingSpaceSimulatorOptions = {}) => {
  sim = createThingSpaceSimulator({
    activationDelayMs: 80,
    actionDelayMs: 0,
    callbackRetryDelaysMs: [30, 30, 30],
    ...options,
  });
  base = await sim.listen();
};
const manualClock = (options: ThingSpaceSimulatorOptions = {}) => {
  now = Date.parse('2025-03-10T12:00:00Z');
  return start({ clock: () => now, ...options });
};

const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const seed = (lines: object[]) => seedLines(base, lines);
const line = (iccid: string): ThingSpaceSimLine => {
  const found = sim.store.get(iccid);
  assert.ok(found, `line ${iccid} exists`);
  return found;
};

const getToken = (authorization = demoClient, body = 'grant_type=client_credentials') =>
  httpJson(`${base}/api/ts/v1/oauth2/token`, {
    method: 'POST',
    body,
    headers: { 'content-type': form, authorization },
  });
const login = (accessToken: string, body: object = { username: 'demo-user', password: 'demo-password' }) =>
  httpJson(`${base}/api/m2m/v1/session/login`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${accessToken}` },
  });

interface Session {
  authorization: string;
  'vz-m2m-token': string;
}
let session: Session;
const signIn = async (): Promise<Session> => {
  const token = await getToken();
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const accessToken = (token.body as { access_token: string }).access_token;
  const sessionResponse = await login(accessToken);
  assert.equal(sessionResponse.status, 200, JSON.stringify(sessionResponse.body));
  session = {
    authorization: `Bearer ${accessToken}`,
    'vz-m2m-token': (sessionResponse.body as { sessionToken: string }).sessionToken,
  };
  return session;
};
const m2m = (path: string, request: TestRequest = {}, headers: object = session) =>
  httpJson(`${base}/api/m2m/v1${path}`, { ...request, headers: { ...headers, ...request.headers } });
const post = (path: string, body: unknown) => m2m(path, { method: 'POST', body });

const requestIdOf = (response: TestResponse) => {
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const { requestId } = response.body as { requestId: string };
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  return requestId;
};
const activate = (iccidList: string[], extra: object = {}) =>
  post('/devices/actions/activate', {
    devices: iccidList.map(byIccid),
    accountName: account,
    servicePlan: 'M2M4G1GB',
    mdnZipCode: '98801',
    ...extra,
  });
const suspend = (iccidList: string[]) =>
  post('/devices/actions/suspend', { devices: iccidList.map(byIccid) });
const restore = (iccidList: string[]) =>
  post('/devices/actions/restore', { devices: iccidList.map(byIccid) });
const deactivate = (iccidList: string[]) =>
  post('/devices/actions/deactivate', {
    devices: iccidList.map(byIccid),
    accountName: account,
    reasonCode: 'FF',
  });
const changePlan = (iccidList: string[], servicePlan: string) =>
  m2m('/devices/actions/plan', { method: 'PUT', body: { devices: iccidList.map(byIccid), servicePlan } });

interface RequestStatus {
  requestId: string;
  status: string;
  subRequests: { ids: { kind: string; id: string }[]; status: string }[];
}
/** The v2 request status, the one that lists devices. */
const requestStatus = async (requestId: string) => {
  const response = await httpJson(`${base}/api/m2m/v2/accounts/${account}/requests/${requestId}/status`, {
    headers: { ...session },
  });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as RequestStatus;
};
/** Each device's status, or the fault its callback carried (the simulator's admin view). */
const deviceOutcomes = async (requestId: string) => {
  const view = await admin(`/requests/${requestId}`);
  assert.equal(view.status, 200, JSON.stringify(view.body));
  return (view.body as { devices: { status: string; fault: { faultcode: string } | null }[] }).devices.map(
    (device) => device.fault?.faultcode ?? device.status,
  );
};
/** With a manual clock: run what is due, then the per-device outcome of a request. */
const outcomes = async (requestId: string) => {
  await sim.tick();
  return deviceOutcomes(requestId);
};

/** A CarrierService listener that answers the given statuses in turn, then 200. */
const startReceiver = async (statuses: number[] = []) => {
  const received: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  const app = Fastify();
  app.post('/carrier', async (request, reply) => {
    received.push({ headers: request.headers, body: request.body as Record<string, unknown> });
    return reply.code(statuses.shift() ?? 200).send({ ok: true });
  });
  receivers.push(app);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/carrier`, received };
};
const registerCallback = async (url: string, credentials: object = {}) => {
  const response = await post(`/callbacks/${account}`, { name: 'CarrierService', url, ...credentials });
  assert.deepEqual(response.body, { accountName: account, serviceName: 'CarrierService' });
};

afterEach(async () => {
  await sim.close();
  await Promise.all(receivers.splice(0).map((app) => app.close()));
});

describe('ThingSpace simulator: two-token authentication', () => {
  it('issues an OAuth token for client credentials and returns the same one within the hour', async () => {
    await start();
    const first = await getToken();
    assert.equal(first.status, 200);
    const body = first.body as Record<string, unknown>;
    assert.deepEqual(
      [body.token_type, body.expires_in, typeof body.access_token, body.scope],
      ['Bearer', 3600, 'string', 'am_application_scope default'],
    );
    const again = (await getToken()).body as { access_token: string; expires_in: number };
    assert.equal(again.access_token, body.access_token);
    const refusals: [TestResponse, number, string][] = [
      [await getToken(''), 401, 'invalid_client'],
      [await getToken(basic('demo-client-id', 'wrong')), 401, 'invalid_client'],
      [await getToken(demoClient, 'scope=x'), 400, 'invalid_request'],
      [await getToken(demoClient, 'grant_type=password'), 400, 'unsupported_grant_type'],
    ];
    for (const [response, status, error] of refusals) {
      assert.equal(response.status, status);
      assert.equal((response.body as { error: string }).error, error);
    }
    assert.equal(sim.calls.count({ action: 'token' }), 6);
  });

  it('needs the bearer token for login and both tokens for every M2M call', async () => {
    await start();
    const missing = await login('');
    assert.equal(missing.status, 401);
    assert.equal(
      (missing.body as { fault: { code: string } }).fault.code,
      thingSpaceGatewayCodes.missingCredentials,
    );
    const bad = await login('not-a-token');
    assert.deepEqual(
      [bad.status, (bad.body as { fault: { code: string; message: string } }).fault.message],
      [401, 'Invalid Credentials'],
    );
    await signIn();
    const sessionBody = (await login(session.authorization.slice(7))).body as Record<string, unknown>;
    assert.equal(sessionBody.expiresIn, 1200);
    const errorCode = (response: TestResponse) => [
      response.status,
      (response.body as { errorCode: string }).errorCode,
    ];
    assert.deepEqual(
      errorCode(await m2m(`/callbacks/${account}`, {}, { authorization: session.authorization })),
      [400, thingSpaceErrorCodes.sessionTokenMissing],
    );
    assert.deepEqual(errorCode(await m2m(`/callbacks/${account}`, { headers: { 'vz-m2m-token': 'abc' } })), [
      400,
      thingSpaceErrorCodes.sessionTokenInvalid,
    ]);
    const noBearer = await m2m(`/callbacks/${account}`, {}, { 'vz-m2m-token': session['vz-m2m-token'] });
    assert.equal(noBearer.status, 401);
    const ok = await m2m(`/callbacks/${account}`);
    assert.deepEqual([ok.status, ok.body], [200, []]);
  });

  it('expires an idle session after 20 minutes, renews a used one, and lets the client log in again', async () => {
    await manualClock();
    await signIn();
    const list = () => m2m(`/callbacks/${account}`);
    now += 19 * minute;
    assert.equal((await list()).status, 200);
    now += 19 * minute;
    assert.equal((await list()).status, 200, 'each call renews the session');
    now += 20 * minute + 1;
    const expired = await list();
    assert.deepEqual(expired.body, {
      errorCode: 'UnifiedWebService.REQUEST_FAILED.SessionToken.Expired',
      errorMessage: 'Session token expired. Log in again to get a new session token.',
    });
    assert.equal(expired.status, 400);
    const renewed = await login(session.authorization.slice(7));
    assert.equal(renewed.status, 200, 'the access token is still valid');
    session['vz-m2m-token'] = (renewed.body as { sessionToken: string }).sessionToken;
    assert.equal((await list()).status, 200);
  });

  it('expires the access token after an hour; a new token request mints another', async () => {
    await manualClock();
    await signIn();
    const old = session.authorization;
    now += 30 * minute;
    const same = (await getToken()).body as { access_token: string; expires_in: number };
    assert.deepEqual([`Bearer ${same.access_token}`, same.expires_in], [old, 1800]);
    now += 30 * minute;
    const refused = await m2m(`/callbacks/${account}`);
    assert.equal(refused.status, 401);
    assert.equal(
      (refused.body as { fault: { code: string } }).fault.code,
      thingSpaceGatewayCodes.invalidCredentials,
    );
    const fresh = (await getToken()).body as { access_token: string; expires_in: number };
    assert.notEqual(`Bearer ${fresh.access_token}`, old);
    assert.equal(fresh.expires_in, 3600);
  });

  it('expires every token once when the expireTokens fault is set, then clears the fault', async () => {
    await start();
    await signIn();
    const put = await admin('/faults', { method: 'PUT', body: { expireTokens: true } });
    assert.equal((put.body as { expireTokens: boolean }).expireTokens, true);
    const refused = await m2m(`/callbacks/${account}`);
    assert.equal(refused.status, 401);
    assert.equal(((await admin('/faults')).body as { expireTokens: boolean }).expireTokens, false);
    const token = (await getToken()).body as { access_token: string };
    assert.notEqual(`Bearer ${token.access_token}`, session.authorization, 'a new access token');
    const oldSession = await m2m(`/callbacks/${account}`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    assert.equal(
      (oldSession.body as { errorCode: string }).errorCode,
      thingSpaceErrorCodes.sessionTokenExpired,
    );
    await signIn();
    assert.equal((await m2m(`/callbacks/${account}`)).status, 200);
  });

  it('locks a username after 5 consecutive failed logins until unlocked', async () => {
    await start({ users: { ops: 'right', other: 'pw' } });
    const accessToken = ((await getToken()).body as { access_token: string }).access_token;
    const attempt = async (password: string, username = 'ops') => {
      const response = await login(accessToken, { username, password });
      return response.status === 200 ? 'ok' : (response.body as { errorCode: string }).errorCode;
    };
    for (let i = 0; i < 4; i += 1) assert.equal(await attempt('wrong'), thingSpaceErrorCodes.loginFailed);
    assert.equal(await attempt('right'), 'ok', 'a success resets the count');
    const statuses: string[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push(await attempt('wrong'));
    assert.deepEqual(new Set(statuses), new Set([thingSpaceErrorCodes.loginFailed]));
    assert.equal(await attempt('right'), thingSpaceErrorCodes.loginLocked, 'even the right password');
    assert.equal(await attempt('pw', 'other'), 'ok', 'other users are not locked');
    assert.deepEqual((await admin('/unlock', { method: 'POST', body: {} })).body, { unlocked: ['ops'] });
    assert.equal(await attempt('right'), 'ok');
    assert.equal(sim.calls.count({ action: 'login' }), 13);
  });
});

describe('ThingSpace simulator: activation and callbacks', () => {
  it('adds and activates a batch of 3: pending activation, then active with MSISDN and IP; callbacks retried', async () => {
    await start();
    await signIn();
    const receiver = await startReceiver([500]);
    await registerCallback(receiver.url, { username: 'cb-user', password: 'cb-pass' });
    await seed([{ iccid: iccids[2], imei: imeis[2] }]);

    const added = await post('/devices/actions/add', {
      state: 'preactive',
      accountName: account,
      devicesToAdd: iccids.map((iccid, i) => ({
        deviceIds: [
          { kind: 'iccid', id: iccid },
          { kind: 'imei', id: imeis[i] },
        ],
      })),
    });
    assert.equal(added.status, 200);
    assert.deepEqual(
      (added.body as { response: string }[]).map((result) => result.response),
      ['Success', 'Success', 'Error. Device already exists.'],
    );
    assert.deepEqual(
      iccids.map((iccid) => line(iccid).state),
      ['pre-active', 'pre-active', 'pre-active'],
    );

    const requestId = requestIdOf(await activate(iccids));
    await waitFor(() => iccids.every((iccid) => line(iccid).state === 'pending activation'));
    assert.equal((await requestStatus(requestId)).status, 'Pending');
    assert.equal(line(iccids[0]).msisdn, null, 'no number before activation completes');

    await sim.settled();
    for (const iccid of iccids) {
      const active = line(iccid);
      assert.deepEqual(
        [active.state, active.servicePlan, active.mdnZipCode],
        ['active', 'M2M4G1GB', '98801'],
      );
      assert.equal(active.mdn, `5${iccid.slice(-9)}`);
      assert.equal(active.msisdn, `15${iccid.slice(-9)}`);
      assert.match(active.ipAddress ?? '', /^10\.\d+\.\d+\.\d+$/);
    }
    assert.equal(new Set(iccids.map((iccid) => line(iccid).ipAddress)).size, 3, 'distinct IPs');
    const status = await requestStatus(requestId);
    assert.deepEqual(
      [status.status, status.subRequests.map((sub) => [sub.ids[0].id, sub.status])],
      ['Success', iccids.map((iccid) => [iccid, 'Success'])],
    );

    // One message per device; the first attempt of the first one got a 500 and was retried.
    assert.equal(receiver.received.length, 4);
    const deliveries = (await admin(`/callbacks?requestId=${requestId}`)).body as CallbackDelivery[];
    assert.deepEqual(
      deliveries.map((delivery) => [
        delivery.iccid,
        delivery.attempt,
        delivery.httpStatus,
        delivery.delivered,
      ]),
      [
        [iccids[0], 1, 500, false],
        [iccids[1], 1, 200, true],
        [iccids[2], 1, 200, true],
        [iccids[0], 2, 200, true],
      ],
    );
    const retried = receiver.received[3];
    assert.equal(retried.headers.authorization, basic('cb-user', 'cb-pass'));
    const { body } = retried;
    assert.deepEqual(
      [
        body.requestId,
        body.status,
        body.callbackCount,
        body.maxCallbackThreshold,
        body.username,
        body.password,
      ],
      [requestId, 'Success', 2, 4, 'cb-user', 'cb-pass'],
    );
    assert.deepEqual(body.deviceIds, [{ id: iccids[0], kind: 'ICCID' }]);
    const activateResponse = (body.deviceResponse as { activateResponse: Record<string, unknown> })
      .activateResponse;
    assert.equal(activateResponse.ipAddress, line(iccids[0]).ipAddress);
    assert.deepEqual(activateResponse.deviceIds, [
      { id: line(iccids[0]).mdn, kind: 'MDN' },
      { id: line(iccids[0]).msisdn, kind: 'MSISDN' },
      { id: imeis[0], kind: 'IMEI' },
      { id: iccids[0], kind: 'ICCID' },
    ]);

    // The call log: every line activated exactly once, the batch's ICCIDs on one entry.
    for (const iccid of iccids) assert.equal(sim.calls.count({ iccid, action: 'activate' }), 1);
    const [activateCall] = (await admin('/calls?action=activate')).body as CallEntry[];
    assert.deepEqual(
      [activateCall.method, activateCall.path, activateCall.iccids, activateCall.status],
      ['POST', '/api/m2m/v1/devices/actions/activate', iccids, 200],
    );

    const listed = await post('/devices/actions/list', { deviceId: { kind: 'iccid', id: iccids[1] } });
    assert.equal(listed.status, 200);
    const [device] = (listed.body as { devices: Record<string, unknown>[] }).devices;
    assert.deepEqual(device.carrierInformations, [
      { carrierName: 'Verizon Wireless', servicePlan: 'M2M4G1GB', state: 'active' },
    ]);
    assert.ok((device.deviceIds as { kind: string; id: string }[]).some((id) => id.kind === 'msisdn'));
  });

  it('gives up after maxCallbackThreshold attempts and logs every one', async () => {
    await start({ callbackRetryDelaysMs: [10, 10] });
    await signIn();
    const receiver = await startReceiver([503, 500, 502, 500]);
    await registerCallback(receiver.url);
    await seed([{ iccid: iccids[0] }]);
    requestIdOf(await activate([iccids[0]]));
    await sim.settled();
    const attempts = sim.callbackDeliveries({ iccid: iccids[0] });
    assert.deepEqual(
      attempts.map((attempt) => [attempt.attempt, attempt.httpStatus]),
      [
        [1, 503],
        [2, 500],
        [3, 502],
      ],
    );
    assert.equal(receiver.received[0].headers.authorization, undefined, 'no credentials registered');
    assert.equal(receiver.received[2].body.maxCallbackThreshold, 3);
  });

  it('sends no callback when callbacks are off; request status polling shows the results', async () => {
    await start({ faults: { callbacks: false } });
    await signIn();
    const receiver = await startReceiver();
    await registerCallback(receiver.url);
    await seed([{ iccid: iccids[0] }, { iccid: iccids[1], state: 'active' }]);
    const requestId = requestIdOf(await activate(iccids.slice(0, 2)));
    let status: RequestStatus;
    do {
      status = await requestStatus(requestId);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } while (status.status === 'Pending');
    assert.deepEqual(
      status.subRequests.map((sub) => [sub.ids[0].id, sub.status]),
      [
        [iccids[0], 'Success'],
        [iccids[1], 'Failed'],
      ],
    );
    assert.equal(status.status, 'Failed');
    assert.deepEqual(await deviceOutcomes(requestId), ['Success', thingSpaceErrorCodes.deviceAlreadyActive]);
    // The v1 status names the request only: no device is listed, whatever it held.
    const v1 = await m2m(`/accounts/${account}/requests/${requestId}/status`);
    assert.deepEqual(v1.body, { requestId, status: 'Failure' });
    assert.equal(line(iccids[0]).state, 'active');
    await sim.settled();
    assert.equal(receiver.received.length, 0);
    assert.deepEqual((await admin('/callbacks')).body, []);
    assert.equal(((await admin('/faults')).body as { callbacks: boolean }).callbacks, false);
  });

  it('lists, replaces and deregisters callback listeners', async () => {
    await start();
    await signIn();
    await registerCallback('http://127.0.0.1:9001/a', { username: 'u' });
    await registerCallback('http://127.0.0.1:9002/b');
    assert.deepEqual((await m2m(`/callbacks/${account}`)).body, [
      { accountName: account, serviceName: 'CarrierService', url: 'http://127.0.0.1:9002/b' },
    ]);
    const removed = await m2m(`/callbacks/${account}/name/CarrierService`, { method: 'DELETE' });
    assert.deepEqual(removed.body, { accountName: account, serviceName: 'CarrierService' });
    const again = await m2m(`/callbacks/${account}/name/CarrierService`, { method: 'DELETE' });
    assert.equal((again.body as { errorCode: string }).errorCode, thingSpaceErrorCodes.callbackNotFound);
    const otherAccount = await m2m('/callbacks/0000999999-00001');
    assert.deepEqual(
      [otherAccount.status, (otherAccount.body as { errorCode: string }).errorCode],
      [400, thingSpaceErrorCodes.accountNotFound],
    );
  });
});

describe('ThingSpace simulator: state machine', () => {
  it('suspends, restores and deactivates; refuses invalid transitions per device, not per request', async () => {
    await start();
    await signIn();
    const receiver = await startReceiver();
    await registerCallback(receiver.url);
    await seed([
      { iccid: iccids[0], state: 'active' },
      { iccid: iccids[1], state: 'pre-active' },
    ]);
    assert.equal(line(iccids[0]).msisdn, `15${iccids[0].slice(-9)}`, 'a seeded active line has a number');

    const suspended = requestIdOf(await suspend(iccids.slice(0, 2)));
    await sim.settled();
    assert.equal(line(iccids[0]).state, 'suspend');
    assert.equal(line(iccids[1]).state, 'pre-active');
    assert.deepEqual(await deviceOutcomes(suspended), ['Success', thingSpaceErrorCodes.deviceStateInvalid]);
    const [ok, refused] = receiver.received.map((message) => message.body);
    assert.ok('suspendResponse' in (ok.deviceResponse as object));
    assert.deepEqual(
      [refused.status, (refused.faultResponse as { faultcode: string }).faultcode],
      ['Failed', thingSpaceErrorCodes.deviceStateInvalid],
    );

    requestIdOf(await restore([iccids[0]]));
    await sim.settled();
    assert.equal(line(iccids[0]).state, 'active');
    requestIdOf(await deactivate([iccids[0]]));
    await sim.settled();
    const gone = line(iccids[0]);
    assert.deepEqual(
      [gone.state, gone.msisdn, gone.ipAddress, gone.servicePlan],
      ['deactive', null, null, null],
    );
    const last = receiver.received.at(-1)?.body.deviceResponse as {
      deactivateResponse: { reasonCode: string };
    };
    assert.equal(last.deactivateResponse.reasonCode, 'FF');

    const again = requestIdOf(await restore([iccids[0]]));
    await sim.settled();
    assert.equal((await requestStatus(again)).status, 'Failed');
    const unknown = requestIdOf(await suspend(['89148000000800999999']));
    await sim.settled();
    assert.deepEqual(await deviceOutcomes(unknown), [thingSpaceErrorCodes.deviceNotFound]);

    const reactivated = requestIdOf(await activate([iccids[0]]));
    await sim.settled();
    assert.equal((await requestStatus(reactivated)).status, 'Success', 'deactive → active');
    assert.equal(line(iccids[0]).msisdn, `15${iccids[0].slice(-9)}`, 'the same number again');
  });

  it('cancels a pending activation when the line is deactivated meanwhile', async () => {
    await manualClock({ activationDelayMs: 5_000 });
    await signIn();
    await seed([{ iccid: iccids[0] }]);
    const activation = requestIdOf(await activate([iccids[0]]));
    await sim.tick();
    assert.equal(line(iccids[0]).state, 'pending activation');
    const deactivation = requestIdOf(await deactivate([iccids[0]]));
    assert.deepEqual(await outcomes(deactivation), ['Success']);
    now += 5_000;
    assert.deepEqual(await outcomes(activation), [thingSpaceErrorCodes.deviceStateInvalid]);
    assert.equal(line(iccids[0]).state, 'deactive');
  });

  it('refuses malformed requests synchronously with the documented codes', async () => {
    await start();
    await signIn();
    const code = async (response: Promise<TestResponse>) => {
      const answered = await response;
      assert.equal(answered.status, 400, JSON.stringify(answered.body));
      return (answered.body as { errorCode: string }).errorCode;
    };
    assert.equal(
      await code(post('/devices/actions/deactivate', { devices: [byIccid(iccids[0])], reasonCode: 'FF' })),
      thingSpaceErrorCodes.accountNotDefined,
    );
    assert.equal(
      await code(activate([iccids[0]], { servicePlan: 'Gold' })),
      thingSpaceErrorCodes.servicePlanNotFound,
    );
    assert.equal(
      await code(activate([iccids[0]], { mdnZipCode: '9880' })),
      thingSpaceErrorCodes.unexpectedError,
    );
    assert.equal(
      await code(post('/devices/actions/suspend', { devices: [{ deviceIds: [{ kind: 'sim', id: '1' }] }] })),
      thingSpaceErrorCodes.deviceKindInvalid,
    );
    assert.equal(
      await code(
        post('/devices/actions/suspend', { devices: [{ deviceIds: [{ kind: 'ICCID', id: '89x' }] }] }),
      ),
      thingSpaceErrorCodes.deviceIdentifierInvalid,
    );
    assert.equal(await code(post('/devices/actions/suspend', [])), thingSpaceErrorCodes.requestUndefined);
    assert.equal(
      await code(post('/devices/actions/suspend', '{"devices": [')),
      thingSpaceErrorCodes.unexpectedError,
    );
    assert.equal(
      await code(activate([iccids[0]], { accountName: '0000999999-00001' })),
      thingSpaceErrorCodes.accountNotFound,
    );
    assert.equal(
      await code(post('/devices/actions/list', { deviceId: { kind: 'iccid', id: iccids[0] } })),
      thingSpaceErrorCodes.deviceNotFound,
    );
    assert.equal(sim.calls.count({ action: 'suspend', status: 400 }), 4);
  });

  it('refuses more than 10,000 devices in one request', async () => {
    await start();
    await signIn();
    const many = Array.from({ length: 10_001 }, (_, i) => `8914800000${String(i).padStart(10, '0')}`);
    for (const response of [await activate(many), await suspend(many)]) {
      assert.equal(response.status, 400);
      assert.equal(
        (response.body as { errorCode: string }).errorCode,
        'UnifiedWebService.INPUT_INVALID.MaxRequestsExceeded',
      );
    }
    const [refused] = (await admin('/calls?action=activate')).body as CallEntry[];
    assert.equal(refused.iccids.length, 10_001, 'the call log names every line of the batch');
    assert.equal(sim.store.size, 0);
    assert.equal((await suspend(many.slice(0, 10_000))).status, 200, '10,000 is allowed');
  });

  it('swaps the ICCID of an active line, which keeps its number', async () => {
    await start();
    await signIn();
    const receiver = await startReceiver();
    await registerCallback(receiver.url);
    await seed([{ iccid: iccids[0], imei: imeis[0], state: 'active' }]);
    const msisdn = line(iccids[0]).msisdn;
    const newIccid = '89148000000800785009';
    const requestId = requestIdOf(
      await m2m('/devices/4G/actions/deviceId', {
        method: 'PUT',
        body: {
          deviceIds: [{ kind: 'iccid', id: iccids[0] }],
          deviceIdsTo: [{ kind: 'iccid', id: newIccid }],
          change4gOption: 'ChangeICCID',
        },
      }),
    );
    await sim.settled();
    assert.equal(sim.store.get(iccids[0]), undefined);
    assert.deepEqual([line(newIccid).msisdn, line(newIccid).imei], [msisdn, imeis[0]]);
    const response = receiver.received[0].body.deviceResponse as {
      changeIdentifierResponse: { deviceIds: { kind: string; id: string }[] };
    };
    assert.ok(
      response.changeIdentifierResponse.deviceIds.some((id) => id.kind === 'ICCID' && id.id === newIccid),
    );
    assert.equal((await requestStatus(requestId)).status, 'Success');
    assert.deepEqual(((await admin('/calls?action=change_identifier')).body as CallEntry[])[0].iccids, [
      iccids[0],
      newIccid,
    ]);
  });
});

describe('ThingSpace simulator: provisioning rules and limits', () => {
  it('allows 5 provisioning actions per line per UTC day', async () => {
    await manualClock();
    await signIn();
    await seed([{ iccid: iccids[0], state: 'active' }]);
    const results: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const requestId = requestIdOf(await (i % 2 === 0 ? suspend : restore)([iccids[0]]));
      results.push(...(await outcomes(requestId)));
    }
    assert.deepEqual(results, [
      'Success',
      'Success',
      'Success',
      'Success',
      'Success',
      thingSpaceErrorCodes.provisioningLimitExceeded,
    ]);
    assert.equal(line(iccids[0]).state, 'suspend', 'the refused restore changed nothing');
    now = Date.parse('2025-03-11T00:00:00Z');
    await signIn();
    assert.deepEqual(await outcomes(requestIdOf(await restore([iccids[0]]))), ['Success']);
  });

  it('allows 4 plan changes per line per UTC month and none while suspended', async () => {
    await manualClock();
    await signIn();
    await seed([
      { iccid: iccids[0], state: 'active', servicePlan: 'M2M4G1MB' },
      { iccid: iccids[1], state: 'suspend' },
      { iccid: iccids[2], state: 'pre-active' },
    ]);
    const plansInTurn = ['M2M4G25MB', 'M2M4G1GB', 'M2M 4G 5GB', 'M2M4G1MB', 'M2M5GUNL'];
    const results: string[] = [];
    for (const plan of plansInTurn)
      results.push(...(await outcomes(requestIdOf(await changePlan([iccids[0]], plan)))));
    assert.deepEqual(results, [
      'Success',
      'Success',
      'Success',
      'Success',
      thingSpaceErrorCodes.planChangeLimitExceeded,
    ]);
    assert.equal(line(iccids[0]).servicePlan, 'M2M4G1MB');
    assert.equal(line(iccids[0]).ratePlan, 'M2M4G1MB');
    assert.deepEqual(await outcomes(requestIdOf(await changePlan(iccids.slice(1), 'M2M4G1GB'))), [
      thingSpaceErrorCodes.planChangeWhileSuspended,
      thingSpaceErrorCodes.deviceStateInvalid,
    ]);
    now = Date.parse('2025-04-01T00:00:00Z');
    await signIn();
    assert.deepEqual(await outcomes(requestIdOf(await changePlan([iccids[0]], 'M2M5GUNL'))), ['Success']);
    assert.equal(line(iccids[0]).servicePlan, 'M2M5GUNL', 'the plan name is accepted for the code');
  });

  it('answers 429 with Retry-After above the activate requests per minute', async () => {
    await manualClock({ faults: { activateRequestsPerMinute: 2 } });
    await signIn();
    assert.equal((await activate([iccids[0]])).status, 200);
    now += 30_000;
    assert.equal((await activate([iccids[1]])).status, 200);
    const refused = await activate([iccids[2]]);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '30');
    assert.equal((refused.body as { fault: { code: string } }).fault.code, thingSpaceGatewayCodes.throttled);
    assert.equal((await suspend([iccids[0]])).status, 200, 'only activate is limited');
    now += 30_000;
    assert.equal((await activate([iccids[2]])).status, 200);
    const faults = await admin('/faults', { method: 'PUT', body: { activateRequestsPerMinute: null } });
    assert.equal((faults.body as { activateRequestsPerMinute: null }).activateRequestsPerMinute, null);
    assert.equal(
      (await admin('/faults', { method: 'PUT', body: { activateRequestPerMinute: 1 } })).status,
      400,
    );
  });

  it('pages the device list 500 at a time with 202 until the last page', async () => {
    await start();
    await signIn();
    const lines = Array.from({ length: 1_200 }, (_, i) => ({
      iccid: `8914800000${String(i).padStart(10, '0')}`,
      state: i % 3 === 0 ? 'active' : 'pre-active',
    }));
    await seed(lines);
    const seen: string[] = [];
    const statuses: number[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await post('/devices/actions/list', { accountName: account, largestDeviceIdSeen: cursor });
      statuses.push(page.status);
      const body = page.body as {
        hasMoreData: boolean;
        devices: {
          deviceIds: { kind: string; id: string }[];
          extendedAttributes: { key: string; value: string }[];
        }[];
      };
      const pageIccids = body.devices.map(
        (device) => device.deviceIds.find((id) => id.kind === 'iccid')?.id ?? '',
      );
      seen.push(...pageIccids);
      if (!body.hasMoreData) break;
      // The next page starts after the last device's own number (its DeviceId attribute).
      cursor = Number(body.devices.at(-1)?.extendedAttributes.find((a) => a.key === 'DeviceId')?.value);
    }
    assert.deepEqual(statuses, [202, 202, 200]);
    assert.deepEqual(
      seen,
      lines.map((each) => each.iccid),
    );
    const count = (response: TestResponse) => [
      response.status,
      (response.body as { devices: [] }).devices.length,
    ];
    assert.deepEqual(count(await post('/devices/actions/list', { maxNumberOfDevices: 1000 })), [202, 500]);
    const active = { currentState: 'ACTIVE', maxNumberOfDevices: 400 };
    assert.deepEqual(count(await post('/devices/actions/list', active)), [200, 400], 'exactly one full page');
    assert.deepEqual(
      count(await post('/devices/actions/list', { ...active, maxNumberOfDevices: 399 })),
      [202, 399],
    );
  });
});

describe('ThingSpace simulator: admin API', () => {
  it('resets lines, sessions, callbacks and faults', async () => {
    await start({ faults: { latencyMs: 1 } });
    await signIn();
    const receiver = await startReceiver();
    await registerCallback(receiver.url);
    await seed([{ iccid: iccids[0], state: 'active' }]);
    requestIdOf(await suspend([iccids[0]]));
    await sim.settled();
    await admin('/faults', { method: 'PUT', body: { callbacks: false, outage: true } });
    assert.equal((await admin('/reset', { method: 'POST' })).status, 204);
    assert.deepEqual((await admin('/devices')).body, []);
    assert.deepEqual((await admin('/calls')).body, []);
    assert.deepEqual((await admin('/callbacks')).body, []);
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual(
      [faults.callbacks, faults.outage, faults.latencyMs, faults.activateRequestsPerMinute],
      [true, false, 1, 100],
    );
    const old = await m2m(`/callbacks/${account}`);
    assert.equal(old.status, 401, 'tokens are gone');
    await signIn();
    assert.deepEqual((await m2m(`/callbacks/${account}`)).body, []);
  });

  it('refuses an invalid seed and shows ThingSpace fields', async () => {
    await start();
    for (const bad of [
      { iccid: '123' },
      { iccid: iccids[0], state: 'ACTIVE' },
      { iccid: iccids[0], servicePlan: 'Gold' },
    ]) {
      assert.equal(
        (await admin('/devices', { method: 'POST', body: [bad] })).status,
        400,
        JSON.stringify(bad),
      );
    }
    await seed([{ iccid: iccids[0], state: 'suspend', msisdn: '15551234567', eid: null }]);
    const [shown] = (await admin(`/devices?iccid=${iccids[0]}`)).body as ThingSpaceSimLine[];
    assert.deepEqual(
      [shown.state, shown.mdn, shown.msisdn, shown.servicePlan, shown.ratePlan, shown.accountName],
      ['suspend', '5551234567', '15551234567', 'M2M4G1MB', 'M2M4G1MB', account],
    );
    assert.match(shown.ipAddress ?? '', /^10\./);
  });

  it('answers an outage with the gateway envelope before looking at tokens', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { outage: true } });
    const response = await getToken();
    assert.equal(response.status, 503);
    assert.equal(
      (response.body as { fault: { code: string } }).fault.code,
      thingSpaceGatewayCodes.backendUnavailable,
    );
    assert.equal(sim.calls.count({ action: 'token', status: 503 }), 1);
  });

  it('works mounted under a prefix in another app, form-encoded token request included', async () => {
    sim = createThingSpaceSimulator({ activationDelayMs: 10, actionDelayMs: 0 });
    const app = Fastify();
    await app.register(sim.plugin, { prefix: '/simulators/thingspace' });
    receivers.push(app);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    base = `${url}/simulators/thingspace`;
    await signIn();
    await seed([{ iccid: iccids[0] }]);
    requestIdOf(await activate([iccids[0]]));
    await sim.settled();
    assert.equal(line(iccids[0]).state, 'active');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('ThingSpace simulator: refuses what Verizon refuses', () => {
  const swap = (body: object, serviceType = '4G') =>
    m2m(`/devices/${serviceType}/actions/deviceId`, { method: 'PUT', body });

  it('answers the old identifier path with the gateway 404 and a swap without change4gOption with 400', async () => {
    await start();
    await signIn();
    await seed([{ iccid: iccids[0], imei: imeis[0], state: 'active' }]);
    const oldPath = await m2m('/devices/actions/deviceidentifier', {
      method: 'PUT',
      body: {
        deviceIds: [{ kind: 'iccid', id: iccids[0] }],
        deviceIdsTo: [{ kind: 'iccid', id: iccids[1] }],
      },
    });
    assert.equal(oldPath.status, 404);
    assert.equal(
      (oldPath.body as { fault: { code: string } }).fault.code,
      thingSpaceGatewayCodes.noMatchingResource,
    );
    const noOption = await swap({
      deviceIds: [{ kind: 'iccid', id: iccids[0] }],
      deviceIdsTo: [{ kind: 'iccid', id: iccids[1] }],
    });
    assert.equal(noOption.status, 400);
    assert.equal((noOption.body as { errorCode: string }).errorCode, thingSpaceErrorCodes.unexpectedError);
    assert.match((noOption.body as { errorMessage: string }).errorMessage, /change4gOption/);
    assert.equal(sim.store.get(iccids[0])?.iccid, iccids[0], 'nothing changed');
  });

  it('swaps a device by IMEI: old and new named by the same kind, or refused', async () => {
    await start();
    await signIn();
    await seed([{ iccid: iccids[0], imei: imeis[0], state: 'active' }]);
    const byIccidOnly = await swap({
      deviceIds: [{ kind: 'iccid', id: iccids[0] }],
      deviceIdsTo: [{ kind: 'imei', id: imeis[1] }],
      change4gOption: 'ChangeIMEI',
    });
    assert.equal(byIccidOnly.status, 400);
    assert.equal(
      (byIccidOnly.body as { errorCode: string }).errorCode,
      thingSpaceErrorCodes.deviceKindInvalid,
    );
    const requestId = requestIdOf(
      await swap({
        deviceIds: [{ kind: 'imei', id: imeis[0] }],
        deviceIdsTo: [{ kind: 'imei', id: imeis[1] }],
        change4gOption: 'ChangeIMEI',
      }),
    );
    await sim.settled();
    assert.equal(line(iccids[0]).imei, imeis[1]);
    assert.deepEqual(await deviceOutcomes(requestId), ['Success']);
  });

  it('refuses a swap of a line that is not active, or to an ICCID already in the database', async () => {
    await start();
    await signIn();
    await seed([
      { iccid: iccids[0], state: 'suspend' },
      { iccid: iccids[1], state: 'active' },
      { iccid: iccids[2], state: 'deactive' },
    ]);
    const suspended = requestIdOf(
      await swap({
        deviceIds: [{ kind: 'iccid', id: iccids[0] }],
        deviceIdsTo: [{ kind: 'iccid', id: '89148000000800785009' }],
        change4gOption: 'ChangeICCID',
      }),
    );
    const taken = requestIdOf(
      await swap({
        deviceIds: [{ kind: 'iccid', id: iccids[1] }],
        deviceIdsTo: [{ kind: 'iccid', id: iccids[2] }],
        change4gOption: 'ChangeICCID',
      }),
    );
    await sim.settled();
    assert.deepEqual(await deviceOutcomes(suspended), [thingSpaceErrorCodes.deviceStateInvalid]);
    assert.deepEqual(await deviceOutcomes(taken), [thingSpaceErrorCodes.deviceIdentifierInUse]);
  });

  it('takes FF as the only deactivation reason', async () => {
    await start();
    await signIn();
    const refused = await post('/devices/actions/deactivate', {
      devices: [byIccid(iccids[0])],
      accountName: account,
      reasonCode: 'XX',
    });
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { errorCode: string }).errorCode, thingSpaceErrorCodes.unexpectedError);
  });

  it('registers callbacks only on the ports ThingSpace delivers to', async () => {
    await start();
    await signIn();
    const refused = await post(`/callbacks/${account}`, {
      name: 'CarrierService',
      url: 'https://example.com:8443/cb',
    });
    assert.equal(refused.status, 400);
    assert.match((refused.body as { errorMessage: string }).errorMessage, /port 8443/);
    const accepted = await post(`/callbacks/${account}`, {
      name: 'CarrierService',
      url: 'https://example.com:9001/cb',
    });
    assert.equal(accepted.status, 200);
  });

  it('lists at most 100 devices in the v2 status and none in the v1 status', async () => {
    await start({ actionDelayMs: 60_000 });
    await signIn();
    const many = Array.from({ length: 150 }, (_, i) => `8914800000${String(i).padStart(10, '0')}`);
    const requestId = requestIdOf(await suspend(many));
    const v2 = await requestStatus(requestId);
    assert.deepEqual([v2.status, v2.subRequests.length], ['Pending', 100]);
    const v1 = await m2m(`/accounts/${account}/requests/${requestId}/status`);
    assert.deepEqual(v1.body, { requestId, status: 'Pending' });
  });
});

import assert from 'node:assert/strict';

export const setCookies = (response: Response) => response.headers.getSetCookie();
export const cookieValue = (cookies: string[], name: string) =>
  cookies.find((cookie) => cookie.startsWith(`${name}=`))?.split(';')[0];

/** The sign-in page's form token and the cookie it came with. */
export async function signInForm(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/portal/sign-in`, { headers });
  const html = await response.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, 'the sign-in form carries a token');
  const cookies = setCookies(response);
  return { token, cookie: cookieValue(cookies, 'bulkchange_sign_in')!, setCookie: cookies.join('\n') };
}

export function postSignIn(
  url: string,
  form: { apiKey: string; token?: string; cookie?: string },
  headers: Record<string, string> = {},
) {
  return fetch(`${url}/portal/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(form.cookie ? { cookie: form.cookie } : {}),
      ...headers,
    },
    body: new URLSearchParams({
      apiKey: form.apiKey,
      ...(form.token ? { _csrf: form.token } : {}),
    }).toString(),
  });
}

/** Signs in through the form as a browser would; resolves with the session cookie. */
export async function portalSession(url: string, apiKey: string, headers: Record<string, string> = {}) {
  const form = await signInForm(url, headers);
  const response = await postSignIn(url, { apiKey, ...form }, headers);
  assert.equal(response.status, 303, await response.text());
  return { response, cookie: cookieValue(setCookies(response), 'bulkchange_session')! };
}

/** Posts the e-mail and password sign-in form, with the sign-in form's token and cookie. */
export function postPasswordSignIn(
  url: string,
  form: { email: string; password: string; token: string; cookie: string },
  headers: Record<string, string> = {},
) {
  return fetch(`${url}/portal/sign-in/password`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie, ...headers },
    body: new URLSearchParams({ email: form.email, password: form.password, _csrf: form.token }).toString(),
  });
}

/** Signs a portal user in with e-mail and password; resolves with the answer and the session cookie. */
export async function passwordSession(
  url: string,
  credentials: { email: string; password: string },
  headers: Record<string, string> = {},
) {
  const form = await signInForm(url, headers);
  const response = await postPasswordSignIn(url, { ...credentials, ...form }, headers);
  return { response, cookie: cookieValue(setCookies(response), 'bulkchange_session') };
}

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

// The real-browser test of the whole flow: Debian's headless Chromium, driven
// by playwright-core, against the release build of the SPA (served with the
// production headers), the BFF with its proxy, the example API and the real
// OpenID Connect provider. Run by scripts/test.d/50-browser.sh after
// `trunk build --release`; the tests run in order and share one browser.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startStack } from './stack.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const artifacts = path.join(root, 'artifacts');
// Short, so the access token expires while the browser is signed in.
const ACCESS_TOKEN_TTL = 8;
// The release build's size (115 KB, docs/spa.md) plus 10%.
const WASM_GZIP_LIMIT = 126 * 1000;

let stack;
let browser;
let context;
let page;
let signedInAt;
/** Every /bff and /api exchange the page made: { method, path, status, at }. */
const exchanges = [];
const pageErrors = [];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

before(async () => {
  stack = await startStack({ accessTokenTtl: ACCESS_TOKEN_TTL });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  context = await browser.newContext({ viewport: { width: 1100, height: 860 }, deviceScaleFactor: 1 });
  // Nothing leaves the machine (the provider's pages link web fonts).
  await context.route('**/*', (route) =>
    LOOPBACK.has(new URL(route.request().url()).hostname) ? route.continue() : route.abort(),
  );
  page = await context.newPage();
  watch(page);
});

/** Records the tab's /bff and /api exchanges in `exchanges` and its errors. */
function watch(tab, name = 'tab 1') {
  tab.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin === new URL(stack.spaUrl).origin && /^\/(bff|api)\//.test(url.pathname)) {
      exchanges.push({
        method: response.request().method(),
        path: url.pathname,
        status: response.status(),
        at: Date.now(),
        tab: name,
      });
    }
  });
  tab.on('pageerror', (e) => pageErrors.push(String(e)));
  tab.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
}

/** Waits until the newest access token (from the sign-in or the latest
 * refresh) has expired. */
async function waitForAccessTokenExpiry() {
  const issuedAt = Math.max(
    signedInAt,
    ...exchanges.filter((e) => e.path === '/bff/refresh' && e.status === 204).map((e) => e.at),
  );
  const wait = issuedAt + (ACCESS_TOKEN_TTL + 2) * 1000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
}

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (pageErrors.length) console.log(`browser console errors:\n${pageErrors.join('\n')}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await browser?.close().catch(() => {});
    await stack?.stop().catch(() => {});
    process.exit(130);
  });
}

const spaOrigin = () => new URL(stack.spaUrl).origin;

/** Goes through the provider's login and consent forms (whichever it shows)
 * until the browser is back in the app (at `origin`), signed in. */
async function completeProviderForms(user, tab = page, origin = spaOrigin()) {
  for (let step = 0; step < 8; step += 1) {
    await tab.waitForLoadState('domcontentloaded');
    if (new URL(tab.url()).origin === origin) break;
    const login = tab.locator('input[name="login"]');
    if (await login.count()) {
      await login.fill(user);
      await tab.locator('input[name="password"]').fill('any password');
    }
    const before = tab.url();
    await Promise.all([
      tab.waitForURL((url) => url.href !== before, { timeout: 20_000 }),
      tab.locator('button[type="submit"]').first().click(),
    ]);
  }
  await tab.locator('#user-name').waitFor({ timeout: 30_000 });
}

/** A browser context of its own (another device: its own cookies) that
 * reaches nothing but loopback. */
async function newDevice(options = {}) {
  const device = await browser.newContext({ viewport: { width: 1100, height: 860 }, ...options });
  await device.route('**/*', (route) =>
    LOOPBACK.has(new URL(route.request().url()).hostname) ? route.continue() : route.abort(),
  );
  return device;
}

async function storageAndCookies() {
  return page.evaluate(() => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    cookie: document.cookie,
    href: location.href,
    html: document.documentElement.outerHTML,
  }));
}

test('release wasm is at most 126 KB gzipped', () => {
  const dist = path.join(root, 'dist');
  const wasm = fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm in dist/, found ${wasm}`);
  const bytes = fs.readFileSync(path.join(dist, wasm[0]));
  const gzipped = zlib.gzipSync(bytes, { level: 9 }).length;
  console.log(`release wasm: ${bytes.length} bytes, ${gzipped} bytes gzipped`);
  assert.ok(gzipped <= WASM_GZIP_LIMIT, `${gzipped} bytes gzipped is over ${WASM_GZIP_LIMIT}`);
});

test('signed-out visitor sees the sign-in page', async () => {
  await page.goto(stack.spaUrl);
  await page.locator('#sign-in').waitFor();
  assert.match(await page.locator('h1').innerText(), /Sign in/);
});

test("signs in through the provider's login and consent forms", async () => {
  await page.locator('#sign-in').click();
  await page.waitForURL((url) => url.origin !== spaOrigin());
  await completeProviderForms('alice');
  signedInAt = Date.now();
  assert.equal(await page.locator('#user-name').innerText(), 'alice');
  const url = new URL(page.url());
  assert.equal(url.pathname, '/');
  assert.equal(url.search, '', 'code and state are removed from the address bar');
});

test('the claims and the session expiry appear', async () => {
  await page.locator('#claims table').waitFor();
  const claims = await page.locator('#claims').innerText();
  assert.match(claims, /sub\s+alice/);
  assert.match(claims, /email\s+alice@example\.com/);
  await page.locator('#session-expiry').waitFor();
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'screenshot-signed-in.png'), fullPage: true });
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
    fs.copyFileSync(path.join(artifacts, 'screenshot-signed-in.png'), path.join(root, 'docs', 'screenshot-signed-in.png'));
  }
});

test("the provider's userinfo appears", async () => {
  await page.locator('nav a', { hasText: 'Userinfo' }).click();
  await page.locator('#userinfo table').waitFor();
  assert.match(await page.locator('#userinfo').innerText(), /email\s+alice@example\.com/);
});

test('the example API answers through the proxy', async () => {
  await page.locator('nav a', { hasText: 'API' }).click();
  assert.equal(new URL(page.url()).pathname, '/call');
  await page.locator('#api-body').waitFor();
  const answer = JSON.parse(await page.locator('#api-body').innerText());
  assert.equal(answer.sub, 'alice');
  assert.equal(answer.path, '/hello');
  assert.equal(answer.cookieHeader, false, 'the API never receives the browser cookies');
  assert.equal(answer.tokenType, 'token-introspection+jwt', 'a phantom token: the upstream never sees the opaque one');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(artifacts, 'screenshot-api-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1100, height: 860 });
});

test('the page is cross-origin isolated', async () => {
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
});

test('reloading every page while signed in shows that page again', async () => {
  // Each page's own element; a page under a path the BFF owns would load
  // the BFF's JSON instead (the app's API page once lived at /api).
  const pages = [
    ['Overview', '#claims'],
    ['Userinfo', '#userinfo'],
    ['Sessions', '#sessions'],
    // Last: the tests after this one start on the API page.
    ['API', '#api-answer'],
  ];
  for (const [tab, marker] of pages) {
    await page.locator('nav a', { hasText: tab }).click();
    await page.locator(marker).waitFor();
    const before = new URL(page.url()).pathname;
    const answer = await page.reload();
    assert.match(answer.headers()['content-type'] ?? '', /text\/html/, `${tab} (${before})`);
    await page.locator(marker).waitFor();
    await page.locator('#user-name').waitFor();
    assert.equal(new URL(page.url()).pathname, before, tab);
  }
});

test('no token in web storage, document.cookie, the URL or the page', async () => {
  const seen = await storageAndCookies();
  assert.deepEqual(seen.local, []);
  assert.deepEqual(seen.session, []);
  assert.equal(seen.cookie, '', 'every cookie the page has is HttpOnly');
  assert.doesNotMatch(seen.href, /[?&#](code|state|access_token|id_token)=/);
  assert.doesNotMatch(seen.html, /eyJ[\w-]{8,}\.[\w-]{8,}\./, 'no JWT in the DOM');
  const cookies = await context.cookies(spaOrigin());
  assert.ok(cookies.length > 0, 'the BFF set its cookies');
  for (const c of cookies) {
    assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
    assert.equal(c.sameSite, 'Strict', `${c.name} is SameSite=Strict`);
  }
});

test('the API call still succeeds after the access token expires (refresh)', async () => {
  await waitForAccessTokenExpiry();
  exchanges.length = 0;
  const answered = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/example/hello' && r.status() === 200,
    { timeout: 30_000 },
  );
  await page.locator('#call-api').click();
  await answered;
  await page.locator('#api-body').waitFor();
  assert.equal(JSON.parse(await page.locator('#api-body').innerText()).sub, 'alice');
  const seen = exchanges.map((e) => `${e.method} ${e.path} ${e.status}`);
  assert.deepEqual(
    seen.filter((e) => /hello|refresh/.test(e)),
    // Under the refresh lock the call is tried once more first, in case
    // another tab has refreshed meanwhile.
    [
      'GET /api/example/hello 401',
      'GET /api/example/hello 401',
      'POST /bff/refresh 204',
      'GET /api/example/hello 200',
    ],
    `exchanges: ${seen.join(', ')}`,
  );
});

test('two tabs whose access token expired together share one refresh', async () => {
  // The provider rotates refresh tokens and treats a rotated-out one as
  // stolen: a second POST /bff/refresh with the same cookie would end the
  // session in every tab. The tabs take turns (Web Locks) and the second one
  // finds the tokens already fresh.
  const second = await context.newPage();
  watch(second, 'tab 2');
  try {
    await second.goto(new URL('/call', stack.spaUrl).href);
    await second.locator('#api-body').waitFor();
    await waitForAccessTokenExpiry();
    exchanges.length = 0;
    const tabs = [page, second];
    const answered = tabs.map((tab) =>
      tab.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/example/hello' && r.status() === 200,
        { timeout: 15_000 },
      ),
    );
    // Both at once: neither click waits for the other.
    await Promise.all(tabs.map((tab) => tab.locator('#call-api').click()));
    const results = await Promise.allSettled(answered);
    const seen = exchanges.map((e) => `${e.tab}: ${e.method} ${e.path} ${e.status}`);
    for (const tab of ['tab 1', 'tab 2']) {
      assert.ok(
        seen.includes(`${tab}: GET /api/example/hello 401`),
        `${tab} met the expired token; exchanges: ${seen.join(', ')}`,
      );
    }
    const refreshes = exchanges.filter((e) => e.path === '/bff/refresh').map((e) => e.status);
    assert.deepEqual(refreshes, [204], `one refresh for both tabs; exchanges: ${seen.join(', ')}`);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
      `the API answers 200 in both tabs; exchanges: ${seen.join(', ')}`,
    );
    for (const tab of tabs) {
      await tab.locator('#api-body').waitFor();
      assert.equal(JSON.parse(await tab.locator('#api-body').innerText()).sub, 'alice');
    }
    const session = await second.evaluate(async () => {
      const r = await fetch('/bff/session', { credentials: 'include', headers: { 'x-csrf': '1' } });
      return r.json();
    });
    assert.equal(session.isLoggedIn, true, 'still signed in after both tabs refreshed');
  } finally {
    await second.close();
  }
});

test('with the cookie store, the Sessions page says plainly that devices cannot be listed', async () => {
  await page.locator('nav a', { hasText: 'Sessions' }).click();
  assert.equal(new URL(page.url()).pathname, '/sessions');
  await page.locator('#sessions-unavailable').waitFor();
  assert.match(await page.locator('#sessions-unavailable').innerText(), /keeps sessions in cookies only/);
  assert.equal(await page.locator('[role="alert"]').count(), 0, 'not shown as an error');
  assert.equal(await page.getByRole('button', { name: 'Try again' }).count(), 0);
  assert.equal(await page.locator('#user-name').innerText(), 'alice', 'still signed in');
});

test('sign-out clears the session and the app shows signed-out', async () => {
  await page.locator('#sign-out').click();
  await page.waitForURL((url) => url.origin !== spaOrigin());
  // The provider asks to confirm the end of its own session.
  for (let step = 0; step < 3 && new URL(page.url()).origin !== spaOrigin(); step += 1) {
    await page.waitForLoadState('domcontentloaded');
    const before = page.url();
    await Promise.all([
      page.waitForURL((url) => url.href !== before, { timeout: 20_000 }),
      page.locator('button[type="submit"]').first().click(),
    ]);
  }
  await page.waitForURL((url) => url.origin === spaOrigin(), { timeout: 20_000 });
  await page.locator('#sign-in').waitFor();
  const session = await page.evaluate(async () => {
    const r = await fetch('/bff/session', { credentials: 'include', headers: { 'x-csrf': '1' } });
    return r.json();
  });
  assert.equal(session.isLoggedIn, false);
  const left = (await context.cookies(spaOrigin())).map((c) => c.name);
  assert.deepEqual(left, [], `cookies left after sign-out: ${left}`);
});

test('a deep link survives the login round trip', async () => {
  const deepLink = '/call?view=deep#answer';
  await page.goto(new URL(deepLink, stack.spaUrl).href);
  await page.locator('#sign-in').waitFor();
  assert.match(await page.locator('.hero').innerText(), /return to \/call\?view=deep#answer/);
  await page.locator('#sign-in').click();
  await page.waitForURL((url) => url.origin !== spaOrigin());
  await completeProviderForms('bob');
  const url = new URL(page.url());
  assert.equal(url.pathname + url.search + url.hash, deepLink);
  await page.locator('#api-body').waitFor();
  assert.equal(JSON.parse(await page.locator('#api-body').innerText()).sub, 'bob');
});

test('a sign-in cancelled at the provider shows a readable message and a way back in', async () => {
  const fresh = await browser.newContext();
  await fresh.route('**/*', (route) =>
    LOOPBACK.has(new URL(route.request().url()).hostname) ? route.continue() : route.abort(),
  );
  try {
    const tab = await fresh.newPage();
    await tab.goto(stack.spaUrl);
    await tab.locator('#sign-in').click();
    await tab.waitForURL((url) => url.origin !== spaOrigin());
    await tab.locator('a', { hasText: 'Cancel' }).click();
    await tab.waitForURL((url) => url.origin === spaOrigin());
    await tab.locator('.notice').waitFor();
    assert.match(await tab.locator('.notice').innerText(), /Sign-in did not complete\. .*access_denied/);
    await tab.locator('#sign-in').waitFor();
    assert.equal(new URL(tab.url()).search, '', 'error and state are removed from the address bar');
  } finally {
    await fresh.close();
  }
});

test('the Sessions page signs out the other devices (Redis session store)', async () => {
  // A stack of its own whose BFF keeps sessions in Redis: only that store can
  // list and end them. Two browser contexts are two devices of one user.
  const redisStack = await startStack({ accessTokenTtl: 300, sessionStore: 'redis', logs: 'redis' });
  const origin = new URL(redisStack.spaUrl).origin;
  const laptop = await newDevice();
  const phone = await newDevice({
    viewport: { width: 390, height: 844 },
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36',
  });
  try {
    const signIn = async (device, name) => {
      const tab = await device.newPage();
      watch(tab, name);
      await tab.goto(redisStack.spaUrl);
      await tab.locator('#sign-in').click();
      await tab.waitForURL((url) => url.origin !== origin);
      await completeProviderForms('carol', tab, origin);
      return tab;
    };
    const onLaptop = await signIn(laptop, 'laptop');
    const onPhone = await signIn(phone, 'phone');
    const rows = onLaptop.locator('#sessions li.session');

    // The laptop sees both devices, itself first and marked.
    await onLaptop.locator('nav a', { hasText: 'Sessions' }).click();
    assert.equal(new URL(onLaptop.url()).pathname, '/sessions');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const mine = await rows.nth(0).innerText();
    assert.match(mine, /This device/);
    assert.match(mine, /Signed in just now \(.+\)/);
    assert.match(mine, /Last active just now/);
    assert.equal(await rows.nth(0).getByRole('button').count(), 0, 'no sign-out button for this device');
    const other = await rows.nth(1).innerText();
    assert.match(other, /Chrome on Android/);
    assert.doesNotMatch(other, /This device/);
    assert.equal(await rows.nth(1).getByRole('button', { name: 'Sign out' }).count(), 1);

    // Nothing secret on the page: no token, no cookie value, not even the
    // sessions' opaque ids.
    const html = await onLaptop.evaluate(() => document.documentElement.outerHTML);
    assert.doesNotMatch(html, /eyJ[\w-]{8,}\.[\w-]{8,}\./, 'no JWT in the DOM');
    const cookies = await laptop.cookies(origin);
    assert.ok(cookies.length > 0);
    for (const c of cookies) assert.ok(!html.includes(c.value), `the page shows no value of the ${c.name} cookie`);
    const listed = await onLaptop.evaluate(async () => {
      const r = await fetch('/bff/sessions', { credentials: 'include', headers: { 'x-csrf': '1' } });
      return r.json();
    });
    assert.equal(listed.sessions.length, 2);
    for (const s of listed.sessions) assert.ok(!html.includes(s.id), 'the page shows no session id');
    await onLaptop.screenshot({ path: path.join(artifacts, 'screenshot-sessions.png'), fullPage: true });

    // "Sign out all other devices": the list reloads with the laptop alone.
    await onLaptop.locator('#end-others').click();
    await onLaptop.locator('.notice', { hasText: 'Signed out 1 other device.' }).waitFor();
    await onLaptop.locator('#sessions', { hasText: 'not signed in on any other device' }).waitFor();
    assert.equal(await rows.count(), 1);
    assert.match(await rows.nth(0).innerText(), /This device/);

    // The phone's next call finds its session gone.
    await onPhone.locator('nav a', { hasText: 'API' }).click();
    await onPhone.locator('#sign-in').waitFor();
    assert.match(await onPhone.locator('.notice').innerText(), /session has ended/);
    await onPhone.reload();
    await onPhone.locator('#sign-in').waitFor();

    // The phone signs in again; the laptop ends that one session by its button.
    await onPhone.locator('#sign-in').click();
    await onPhone.waitForURL((url) => url.origin !== origin);
    await completeProviderForms('carol', onPhone, origin);
    await onLaptop.reload();
    await rows.nth(1).waitFor();
    await rows.nth(1).getByRole('button', { name: 'Sign out' }).click();
    await onLaptop.locator('.notice', { hasText: 'That device is signed out.' }).waitFor();
    await onLaptop.locator('#sessions', { hasText: 'not signed in on any other device' }).waitFor();
    await onPhone.reload();
    await onPhone.locator('#sign-in').waitFor();

    // The laptop itself is still signed in.
    await onLaptop.reload();
    await rows.nth(0).waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await onLaptop.locator('#user-name').innerText(), 'carol');
  } finally {
    await laptop.close();
    await phone.close();
    await redisStack.stop();
  }
});

import { describe, expect, it } from 'vitest';
import { BrokerError, createBrokerClient } from '../src/brokerClient.js';

const BROKER = 'http://broker.test';

const NONCE = 'nonce-this-tab-made-for-its-login';
const NONCE_KEY = `tiktok-broker-login-nonce ${BROKER}`;

// A fake tab's sessionStorage.
function memoryStorage(entries = {}) {
  const items = new Map(Object.entries(entries));
  return {
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => items.set(k, String(v)),
    removeItem: (k) => items.delete(k),
    items,
  };
}

// A fake browser: location + history, a manual clock and timers, and a scripted fetch. A
// fragment from the broker carries the nonce this tab stored when it started the login, unless
// `solicited` is false (a link someone else made).
function setup({ hash = '', routes = {}, solicited = true } = {}) {
  if (solicited && /(^|[#&])(access_token|login_code|error)=/.test(hash)) hash += `&nonce=${NONCE}`;
  const storage = memoryStorage({ [NONCE_KEY]: NONCE });
  const calls = [];
  const clock = { t: 1_000_000, timers: [] };
  const win = {
    location: {
      hash,
      pathname: '/post',
      search: '?x=1',
      assigned: null,
      assign(u) {
        this.assigned = u;
      },
    },
    history: {
      state: { k: 1 },
      replaced: null,
      replaceState(state, _title, u) {
        this.replaced = { state, url: u };
        win.location.hash = '';
      },
    },
  };
  const fetch = async (url, init = {}) => {
    const path = url.replace(BROKER, '');
    const auth = new Headers(init.headers || {}).get('Authorization');
    calls.push({ path, method: init.method || 'GET', auth, credentials: init.credentials, body: init.body });
    const handler = routes[path];
    if (!handler) return new Response('{"error":"not_found"}', { status: 404 });
    const [status, body] = await handler({ auth, init, calls });
    return new Response(body == null ? null : JSON.stringify(body), { status });
  };
  // XMLHttpRequest for upload(): the same routes; reports the whole body as sent, then loads.
  class XMLHttpRequest {
    constructor() {
      this.headers = {};
      this.upload = {};
    }
    open(method, u) {
      this.method = method;
      this.url = u;
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    send(body) {
      const path = this.url.replace(BROKER, '');
      const auth = this.headers.Authorization ?? null;
      calls.push({ path, method: this.method, auth, body, contentType: this.headers['Content-Type'] });
      const handler = routes[path];
      const [status, answer] = handler ? handler({ auth, init: { body }, calls }) : [404, { error: 'not_found' }];
      Promise.resolve().then(() => {
        this.upload.onprogress?.({ loaded: 3, total: 3, lengthComputable: true });
        this.status = status;
        this.responseText = answer == null ? '' : JSON.stringify(answer);
        this.onload();
      });
    }
  }
  const client = createBrokerClient({
    brokerUrl: `${BROKER}/`,
    window: win,
    fetch,
    XMLHttpRequest,
    storage,
    now: () => clock.t,
    setTimeout: (fn, ms) => {
      const id = clock.timers.length + 1;
      clock.timers.push({ id, at: clock.t + ms, fn, done: false });
      return id;
    },
    clearTimeout: (id) => {
      const t = clock.timers.find((x) => x.id === id);
      if (t) t.done = true;
    },
  });
  // Advance the clock, firing due timers in order.
  clock.advance = async (ms) => {
    const end = clock.t + ms;
    for (;;) {
      const due = clock.timers.filter((x) => !x.done && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      clock.t = due.at;
      due.done = true;
      due.fn();
      await new Promise((r) => setTimeout(r, 0));
    }
    clock.t = end;
  };
  return { client, win, calls, clock, storage };
}

let n = 0;
const tokenBody = (expires_in = 900) => ({ access_token: `jwt-${++n}`, token_type: 'Bearer', expires_in });

describe('login CSRF: the nonce', () => {
  it('ignores a fragment this tab did not ask for, and clears it', async () => {
    const { client, win, calls } = setup({ hash: '#access_token=attackers&expires_in=900', solicited: false });
    expect(await client.handleRedirect()).toEqual({ type: 'none' });
    expect(client.getState().authenticated).toBe(false);
    expect(win.location.hash).toBe('');
    expect(calls).toEqual([]);
  });

  it('ignores a login code with another nonce, without redeeming it', async () => {
    const { client, calls } = setup({ hash: '#login_code=attackers&nonce=guessed', solicited: false });
    expect(await client.handleRedirect()).toEqual({ type: 'none' });
    expect(calls).toEqual([]);
  });

  it('uses the nonce once: the same fragment a second time is ignored', async () => {
    const { client, win } = setup({ hash: '#access_token=abc&expires_in=900' });
    const hash = win.location.hash;
    expect((await client.handleRedirect()).type).toBe('token');
    win.location.hash = hash;
    client.clear?.();
    expect(await client.handleRedirect()).toEqual({ type: 'none' });
  });

  it('sends a fresh nonce to /login and keeps it in this tab', async () => {
    const { client, win, storage } = setup();
    client.login({ redirectTo: '/post' });
    const sent = new URL(win.location.assigned).searchParams.get('nonce');
    expect(sent).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(storage.getItem(NONCE_KEY)).toBe(sent);
    expect(new URL(client.loginUrl()).searchParams.get('nonce')).not.toBe(sent);
  });
});

describe('the bearer token goes to the broker only', () => {
  it('refuses absolute URLs on other origins, and sends paths and its own origin', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/api/me': () => [200, { ok: true }] },
    });
    await client.handleRedirect();
    await expect(client.fetch('https://evil.example/api/me')).rejects.toMatchObject({ error: 'foreign_url' });
    await expect(client.fetch('//evil.example/api/me')).rejects.toMatchObject({ error: 'foreign_url' });
    await expect(client.fetchJson('http://broker.test.evil.example/api/me')).rejects.toBeInstanceOf(BrokerError);
    expect(calls).toEqual([]);
    await client.fetch(`${BROKER}/api/me`);
    await client.fetch('/api/me');
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/me', 'Bearer tok'],
      ['/api/me', 'Bearer tok'],
    ]);
  });
});

describe('handleRedirect', () => {
  it('takes the token from the fragment and clears the fragment from the address bar', async () => {
    const { client, win } = setup({ hash: '#access_token=abc.def.ghi&token_type=Bearer&expires_in=900' });
    const result = await client.handleRedirect();
    expect(result).toEqual({ type: 'token' });
    expect(client.getState().authenticated).toBe(true);
    expect(client.getState().expiresAt).toBe(1_000_000 + 900_000);
    expect(win.history.replaced).toEqual({ state: { k: 1 }, url: '/post?x=1' });
    expect(win.location.hash).toBe('');
  });

  it('reports an error fragment, clears it and stays logged out', async () => {
    const { client, win } = setup({ hash: '#error=access_denied&error_description=User%20declined' });
    const result = await client.handleRedirect();
    expect(result).toEqual({ type: 'error', error: 'access_denied', errorDescription: 'User declined' });
    expect(client.getState().authenticated).toBe(false);
    expect(win.history.replaced.url).toBe('/post?x=1');
  });

  it('trades a handoff login code for the token', async () => {
    const { client, calls, win } = setup({
      hash: '#login_code=one-time',
      routes: { '/auth/session': () => [200, tokenBody()] },
    });
    expect(await client.handleRedirect()).toEqual({ type: 'token' });
    expect(win.history.replaced.url).toBe('/post?x=1');
    expect(calls[0]).toMatchObject({ path: '/auth/session', method: 'POST', credentials: 'include' });
    expect(JSON.parse(calls[0].body)).toEqual({ login_code: 'one-time' });
    expect(client.getState().authenticated).toBe(true);
  });

  it('reports a refused login code', async () => {
    const { client } = setup({
      hash: '#login_code=used',
      routes: { '/auth/session': () => [400, { error: 'invalid_grant', error_description: 'Unknown code' }] },
    });
    expect(await client.handleRedirect()).toEqual({
      type: 'error',
      error: 'invalid_grant',
      errorDescription: 'Unknown code',
    });
  });

  it('leaves unrelated fragments alone', async () => {
    const { client, win } = setup({ hash: '#section-2' });
    expect(await client.handleRedirect()).toEqual({ type: 'none' });
    expect(win.history.replaced).toBeNull();
  });
});

describe('refresh', () => {
  it('renews the token before it expires, with the cookie', async () => {
    const { client, calls, clock } = setup({
      hash: '#access_token=first&expires_in=900',
      routes: { '/auth/refresh': () => [200, tokenBody()], '/api/me': ({ auth }) => [200, { auth }] },
    });
    await client.handleRedirect();
    await clock.advance(839_000); // 61 s before expiry: not yet
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(0);
    await clock.advance(2_000); // within the 60 s leeway
    const refreshes = calls.filter((c) => c.path === '/auth/refresh');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]).toMatchObject({ method: 'POST', credentials: 'include', auth: null });
    const me = await client.fetchJson('/api/me');
    expect(me.auth).toMatch(/^Bearer jwt-\d+$/);
    expect(me.auth).not.toBe('Bearer first');
  });

  it('scales the leeway down for short-lived tokens', async () => {
    const { client, calls, clock } = setup({
      hash: '#access_token=first&expires_in=10',
      routes: { '/auth/refresh': () => [200, tokenBody(10)] },
    });
    await client.handleRedirect();
    await clock.advance(7_900);
    expect(calls).toHaveLength(0);
    await clock.advance(200); // 20 % of 10 s = 2 s early
    expect(calls.map((c) => c.path)).toEqual(['/auth/refresh']);
  });

  it('shares one refresh between concurrent callers', async () => {
    const { client, calls } = setup({ routes: { '/auth/refresh': () => [200, tokenBody()] } });
    const results = await Promise.all([client.refresh(), client.refresh(), client.refresh()]);
    expect(results).toEqual([true, true, true]);
    expect(calls).toHaveLength(1);
  });

  it('ends the session when the refresh cookie is refused', async () => {
    const { client } = setup({
      hash: '#access_token=first&expires_in=900',
      routes: { '/auth/refresh': () => [401, { error: 'invalid_token' }] },
    });
    await client.handleRedirect();
    const reasons = [];
    client.onChange((_s, reason) => reasons.push(reason));
    expect(await client.refresh()).toBe(false);
    expect(client.getState().authenticated).toBe(false);
    expect(reasons).toEqual(['session-ended']);
  });

  it('refreshes before a call when the token is already past its renewal time', async () => {
    const { client, calls, clock } = setup({
      hash: '#access_token=old&expires_in=900',
      routes: { '/auth/refresh': () => [200, tokenBody()], '/api/me': ({ auth }) => [200, { auth }] },
    });
    await client.handleRedirect();
    clock.timers.forEach((t) => (t.done = true)); // a throttled background tab: the timer never ran
    clock.t += 900_000;
    const me = await client.fetchJson('/api/me');
    expect(calls.map((c) => c.path)).toEqual(['/auth/refresh', '/api/me']);
    expect(me.auth).not.toBe('Bearer old');
  });

  it('init() resumes a session from the refresh cookie when there is no fragment', async () => {
    const { client } = setup({ routes: { '/auth/refresh': () => [200, tokenBody()] } });
    expect(await client.init()).toEqual({ type: 'resumed' });
    expect(client.getState().authenticated).toBe(true);
  });

  it('init() stays logged out without a session', async () => {
    const { client } = setup({ routes: { '/auth/refresh': () => [401, { error: 'invalid_token' }] } });
    expect(await client.init()).toEqual({ type: 'none' });
    expect(client.getState().authenticated).toBe(false);
  });
});

describe('fetch wrapper', () => {
  it('adds the bearer header', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/api/me': () => [200, { open_id: 'x' }] },
    });
    await client.handleRedirect();
    const response = await client.fetch('/api/me');
    expect(response.status).toBe(200);
    expect(calls[0].auth).toBe('Bearer tok');
  });

  it('after a 401, refreshes once and retries the request with the new token', async () => {
    const { client, calls } = setup({
      hash: '#access_token=revoked&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, { access_token: 'fresh', expires_in: 900 }],
        '/api/videos': ({ auth }) =>
          auth === 'Bearer fresh' ? [201, { publish_id: 'p1' }] : [401, { error: 'invalid_token' }],
      },
    });
    await client.handleRedirect();
    const body = await client.fetchJson('/api/videos', { method: 'POST', json: { mode: 'draft' } });
    expect(body).toEqual({ publish_id: 'p1' });
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/videos', 'Bearer revoked'],
      ['/auth/refresh', null],
      ['/api/videos', 'Bearer fresh'],
    ]);
    expect(calls[2].body).toBe('{"mode":"draft"}');
  });

  it('after a 401 with a dead session, logs out and gives the 401 back', async () => {
    const { client, calls } = setup({
      hash: '#access_token=revoked&expires_in=900',
      routes: {
        '/auth/refresh': () => [401, { error: 'invalid_token' }],
        '/api/me': () => [401, { error: 'invalid_token', error_description: 'Session ended' }],
      },
    });
    await client.handleRedirect();
    const err = await client.fetchJson('/api/me').catch((e) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err.status).toBe(401);
    expect(err.error).toBe('invalid_token');
    expect(client.getState().authenticated).toBe(false);
    expect(calls.map((c) => c.path)).toEqual(['/api/me', '/auth/refresh']);
  });

  it('treats every 401 as a refused JWT, whatever its error code', async () => {
    // The broker answers a missing TikTok scope with 403 scope_not_granted, never with a 401.
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, { access_token: 'fresh', expires_in: 900 }],
        '/api/creator-info': ({ auth }) =>
          auth === 'Bearer fresh' ? [200, { creator_nickname: 'A' }] : [401, { error: 'scope_not_authorized' }],
      },
    });
    await client.handleRedirect();
    expect(await client.fetchJson('/api/creator-info')).toEqual({ creator_nickname: 'A' });
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/creator-info', 'Bearer tok'],
      ['/auth/refresh', null],
      ['/api/creator-info', 'Bearer fresh'],
    ]);
  });

  it('gives back a 401 to the renewed token without looping, and ends the session', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, tokenBody()],
        '/api/me': () => [401, { error: 'invalid_token', error_description: 'Refused' }],
      },
    });
    await client.handleRedirect();
    const reasons = [];
    client.onChange((_s, reason) => reasons.push(reason));
    const response = await client.fetch('/api/me');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: 'Refused' });
    expect(calls.map((c) => c.path)).toEqual(['/api/me', '/auth/refresh', '/api/me']);
    expect(reasons).toEqual(['refresh', 'session-ended']);
    expect(client.getState().authenticated).toBe(false);
  });

  it('renews after a 401 but does not resend a body that cannot be replayed', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/auth/refresh': () => [200, tokenBody()], '/api/videos': () => [401, { error: 'invalid_token' }] },
    });
    await client.handleRedirect();
    const body = new ReadableStream({ start: (c) => c.close() });
    const response = await client.fetch('/api/videos', { method: 'POST', body, duplex: 'half' });
    expect(response.status).toBe(401);
    expect(calls.map((c) => c.path)).toEqual(['/api/videos', '/auth/refresh']);
    expect(client.getState().authenticated).toBe(true);
  });

  it('resends without a refresh of its own when another call renewed the token meanwhile', async () => {
    let client;
    let answered = 0;
    ({ client } = setup({
      hash: '#access_token=old&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, { access_token: 'fresh', expires_in: 900 }],
        '/api/me': async ({ auth, calls }) => {
          answered += 1;
          if (auth === 'Bearer fresh') return [200, { calls: calls.map((c) => [c.path, c.auth]) }];
          await client.refresh(); // another call renews before this 401 arrives
          return [401, { error: 'invalid_token' }];
        },
      },
    }));
    await client.handleRedirect();
    const body = await client.fetchJson('/api/me');
    expect(answered).toBe(2);
    expect(body.calls).toEqual([
      ['/api/me', 'Bearer old'],
      ['/auth/refresh', null],
      ['/api/me', 'Bearer fresh'],
    ]);
  });

  it('without a token, gives a 401 back as it is', async () => {
    const { client, calls } = setup({ routes: { '/api/me': () => [401, { error: 'unauthenticated' }] } });
    const err = await client.fetchJson('/api/me').catch((e) => e);
    expect(err).toMatchObject({ status: 401, error: 'unauthenticated' });
    expect(calls.map((c) => [c.path, c.auth])).toEqual([['/api/me', null]]);
  });

  it('throws BrokerError with the broker’s error fields', async () => {
    const { client } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/api/videos': () => [403, { error: 'privacy_level_option_mismatch', error_description: 'no' }] },
    });
    await client.handleRedirect();
    const err = await client.fetchJson('/api/videos', { method: 'POST', json: {} }).catch((e) => e);
    expect(err).toMatchObject({ status: 403, error: 'privacy_level_option_mismatch', description: 'no' });
  });
});

describe('upload', () => {
  it('sends the bearer and reports progress', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/api/uploads/p1': () => [201, { status: 'PROCESSING_UPLOAD' }] },
    });
    await client.handleRedirect();
    const seen = [];
    const result = await client.upload('/api/uploads/p1', 'abc', {
      contentType: 'video/mp4',
      onProgress: (loaded, total) => seen.push([loaded, total]),
    });
    expect(result).toEqual({ status: 201, body: { status: 'PROCESSING_UPLOAD' } });
    expect(calls).toMatchObject([{ path: '/api/uploads/p1', method: 'PUT', auth: 'Bearer tok', contentType: 'video/mp4' }]);
    expect(seen).toEqual([[3, 3]]);
  });

  it('takes the same renewal path: after a 401, renews once and resends once', async () => {
    const { client, calls } = setup({
      hash: '#access_token=revoked&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, { access_token: 'fresh', expires_in: 900 }],
        '/api/uploads/p1': ({ auth }) =>
          auth === 'Bearer fresh' ? [201, { status: 'PROCESSING_UPLOAD' }] : [401, { error: 'invalid_token' }],
      },
    });
    await client.handleRedirect();
    const result = await client.upload('/api/uploads/p1', 'abc');
    expect(result.status).toBe(201);
    expect(calls.map((c) => [c.path, c.auth, c.body ?? null])).toEqual([
      ['/api/uploads/p1', 'Bearer revoked', 'abc'],
      ['/auth/refresh', null, null],
      ['/api/uploads/p1', 'Bearer fresh', 'abc'],
    ]);
  });

  it('throws the 401 that answers the renewed token, and ends the session', async () => {
    const { client, calls } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, tokenBody()],
        '/api/uploads/p1': () => [401, { error: 'invalid_token', error_description: 'Refused' }],
      },
    });
    await client.handleRedirect();
    const err = await client.upload('/api/uploads/p1', 'abc').catch((e) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({ status: 401, error: 'invalid_token', description: 'Refused' });
    expect(calls.map((c) => c.path)).toEqual(['/api/uploads/p1', '/auth/refresh', '/api/uploads/p1']);
    expect(client.getState().authenticated).toBe(false);
  });

  it('renews first when the token is past its renewal time', async () => {
    const { client, calls, clock } = setup({
      hash: '#access_token=old&expires_in=900',
      routes: {
        '/auth/refresh': () => [200, { access_token: 'fresh', expires_in: 900 }],
        '/api/uploads/p1': () => [201, null],
      },
    });
    await client.handleRedirect();
    clock.timers.forEach((t) => (t.done = true));
    clock.t += 850_000;
    await client.upload('/api/uploads/p1', 'abc');
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/auth/refresh', null],
      ['/api/uploads/p1', 'Bearer fresh'],
    ]);
  });
});

describe('login and logout', () => {
  it('builds the login URL with redirect_to and extra scopes', () => {
    const { client, win } = setup();
    expect(client.loginUrl()).toMatch(new RegExp(`^${BROKER}/login\\?nonce=[\\w-]{32}$`));
    client.login({ redirectTo: '/post', scope: ['video.publish', 'video.upload'] });
    expect(win.location.assigned).toMatch(new RegExp(
      `^${BROKER}/login\\?redirect_to=%2Fpost&scope=video.publish%2Cvideo.upload&nonce=[\\w-]{32}$`,
    ));
  });

  it('logs out with the bearer and forgets the token; revoke adds ?revoke=true', async () => {
    const { client, calls, clock } = setup({
      hash: '#access_token=tok&expires_in=900',
      routes: { '/logout': () => [204, null], '/logout?revoke=true': () => [204, null] },
    });
    await client.handleRedirect();
    await client.logout({ revoke: true });
    expect(calls[0]).toMatchObject({ path: '/logout?revoke=true', method: 'POST', auth: 'Bearer tok', credentials: 'include' });
    expect(client.getState().authenticated).toBe(false);
    await clock.advance(3_600_000); // no renewal after logout
    expect(calls).toHaveLength(1);
  });
});

describe('across tabs', () => {
  it('takes a Web Lock around each refresh, so tabs sharing the cookie never race', async () => {
    const names = [];
    let tail = Promise.resolve();
    const locks = {
      // A minimal exclusive lock manager: callbacks run one after another.
      request(name, fn) {
        names.push(name);
        const run = tail.then(fn);
        tail = run.catch(() => {});
        return run;
      },
    };
    let inFlight = 0;
    let maxInFlight = 0;
    const fetch = async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return new Response(JSON.stringify(tokenBody()), { status: 200 });
    };
    const tab = () => createBrokerClient({ brokerUrl: BROKER, window: {}, fetch, locks });
    const [a, b] = [tab(), tab()];
    expect(await Promise.all([a.refresh(), b.refresh()])).toEqual([true, true]);
    expect(names).toEqual([`tiktok-broker-refresh ${BROKER}`, `tiktok-broker-refresh ${BROKER}`]);
    expect(maxInFlight).toBe(1);
    a.dispose();
    b.dispose();
  });
});

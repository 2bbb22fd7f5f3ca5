// brokerClient: a framework-free client for tiktok-broker, meant to be copied into any SPA.
//
// It handles the login redirect (fragment or handoff delivery), keeps the broker JWT in memory
// only, renews it through POST /auth/refresh before it expires and once after a 401, and wraps
// fetch / XMLHttpRequest so every call to the broker carries the bearer header.
// The JWT is never written to storage, the URL or the console. Guide: docs/SPA.md.

/** An error answered by the broker: `{"error", "error_description"}` plus the HTTP status. */
export class BrokerError extends Error {
  constructor(status, error, description, body = null) {
    super(description || error || `HTTP ${status}`);
    this.name = 'BrokerError';
    this.status = status;
    this.error = error || 'http_error';
    this.description = description || '';
    this.body = body;
  }
}

const FRAGMENT_KEYS = ['access_token', 'login_code', 'error'];
const REPLAYABLE = (body) =>
  body == null ||
  typeof body === 'string' ||
  body instanceof ArrayBuffer ||
  ArrayBuffer.isView(body) ||
  (typeof Blob !== 'undefined' && body instanceof Blob) ||
  (typeof FormData !== 'undefined' && body instanceof FormData) ||
  (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams);

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: 'invalid_response', error_description: 'The broker answered with non-JSON.' };
  }
}

function errorFrom(status, body) {
  const b = body && typeof body === 'object' ? body : {};
  return new BrokerError(status, b.error, b.error_description, body);
}

/**
 * Create a client bound to one broker.
 *
 * options.brokerUrl       broker origin, e.g. "http://localhost:8000" (required)
 * options.refreshLeeway   max seconds before expiry to renew (default 60; at most 20% of the TTL)
 * options.locks           a Web Locks manager (default navigator.locks; null: no cross-tab lock)
 * options.storage         where the login's nonce waits for the redirect back (default sessionStorage)
 * options.window, fetch, XMLHttpRequest, now, setTimeout, clearTimeout: injectable for tests.
 */
export function createBrokerClient(options = {}) {
  if (!options.brokerUrl) throw new Error('createBrokerClient: brokerUrl is required');
  const brokerUrl = String(options.brokerUrl).replace(/\/+$/, '');
  const win = options.window ?? globalThis.window;
  const doFetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const XHR = options.XMLHttpRequest ?? globalThis.XMLHttpRequest;
  const now = options.now ?? (() => Date.now());
  const setTimer = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearTimer = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
  const maxLeewayMs = 1000 * (options.refreshLeeway ?? 60);
  const retryDelayMs = options.retryDelayMs ?? 5000;
  // The broker rotates the refresh cookie on every use and ends the session if an old one comes
  // back, so tabs sharing the cookie must not refresh at the same moment: a Web Lock orders them.
  const locks = options.locks !== undefined ? options.locks : globalThis.navigator?.locks;
  const lockName = `tiktok-broker-refresh ${brokerUrl}`;
  const exclusive = (fn) => (locks ? locks.request(lockName, fn) : fn());

  let token = null; // { value, expiresAt, lifetimeMs } — memory only
  let refreshing = null; // the one refresh in flight
  let timer = null;
  const listeners = new Set();

  const storage = options.storage !== undefined ? options.storage : win?.sessionStorage;
  const nonceKey = `tiktok-broker-login-nonce ${brokerUrl}`;
  const brokerOrigin = new URL(brokerUrl).origin;

  // The bearer JWT goes to the broker only: a path is the broker's, and an absolute URL must be
  // on the broker's origin (a URL from elsewhere would otherwise receive the token).
  function url(path) {
    if (!/^[a-z][a-z0-9+.-]*:|^\/\//i.test(path)) return brokerUrl + (path.startsWith('/') ? '' : '/') + path;
    const target = new URL(path, brokerUrl);
    if (target.origin !== brokerOrigin) {
      throw new BrokerError(0, 'foreign_url', `brokerClient only calls its broker (${brokerOrigin}).`);
    }
    return target.href;
  }

  // Login CSRF: a link carrying someone else's #access_token= or #login_code= must not sign this
  // browser in. Each login gets a random nonce, kept in this tab's sessionStorage and sent to
  // /login; the broker returns it in the fragment, and a fragment without it is ignored.
  function newNonce() {
    const bytes = new Uint8Array(24);
    globalThis.crypto.getRandomValues(bytes);
    const nonce = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    storage?.setItem(nonceKey, nonce);
    return nonce;
  }

  function takeNonce() {
    const nonce = storage?.getItem(nonceKey) ?? null;
    storage?.removeItem(nonceKey);
    return nonce;
  }

  function emit(reason) {
    const state = getState();
    for (const fn of listeners) {
      try {
        fn(state, reason);
      } catch (e) {
        console.error('brokerClient listener failed', e); // never logs the token
      }
    }
  }

  function getState() {
    return { authenticated: token !== null, expiresAt: token ? token.expiresAt : null };
  }

  function leewayMs(t) {
    return Math.min(maxLeewayMs, Math.max(1000, t.lifetimeMs * 0.2));
  }

  function schedule(delayMs) {
    if (timer !== null) clearTimer(timer);
    timer = setTimer(() => {
      timer = null;
      refresh().catch(() => {
        /* refresh() already cleared the session or scheduled a retry */
      });
    }, Math.max(0, delayMs));
  }

  function setToken(body, reason) {
    const expiresIn = Number(body.expires_in);
    if (!body.access_token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new BrokerError(0, 'invalid_response', 'The broker sent no usable access token.');
    }
    token = { value: body.access_token, expiresAt: now() + expiresIn * 1000, lifetimeMs: expiresIn * 1000 };
    schedule(token.expiresAt - leewayMs(token) - now());
    emit(reason);
  }

  function clearToken(reason) {
    const had = token !== null;
    token = null;
    if (timer !== null) clearTimer(timer);
    timer = null;
    if (had) emit(reason);
  }

  function needsRefresh() {
    return token === null || now() >= token.expiresAt - leewayMs(token);
  }

  /**
   * The login URL at the broker; `redirectTo` is a path of this SPA, `scope` extra scopes.
   * Each call starts a new login: it makes the nonce the redirect back must carry.
   */
  function loginUrl({ redirectTo, scope } = {}) {
    const params = new URLSearchParams();
    if (redirectTo) params.set('redirect_to', redirectTo);
    if (scope) params.set('scope', Array.isArray(scope) ? scope.join(',') : scope);
    params.set('nonce', newNonce());
    const qs = params.toString();
    return `${brokerUrl}/login${qs ? `?${qs}` : ''}`;
  }

  /** Navigate the browser to the broker's login (which goes on to TikTok's consent page). */
  function login(opts) {
    win.location.assign(loginUrl(opts));
  }

  /**
   * Read the broker's redirect fragment, if any, and clear it from the address bar.
   * Resolves to {type: 'token'} | {type: 'error', error, errorDescription} | {type: 'none'}.
   */
  async function handleRedirect() {
    const hash = win.location.hash || '';
    const params = new URLSearchParams(hash.replace(/^#/, ''));
    if (!FRAGMENT_KEYS.some((k) => params.has(k))) return { type: 'none' };
    // Clear the fragment first, so the token or code never stays in the address bar or history.
    const { pathname, search } = win.location;
    win.history.replaceState(win.history.state, '', pathname + search);
    const expected = takeNonce();
    if (!expected || params.get('nonce') !== expected) return { type: 'none' }; // not our login

    if (params.has('error')) {
      clearToken('login-error');
      return {
        type: 'error',
        error: params.get('error'),
        errorDescription: params.get('error_description') || '',
      };
    }
    if (params.has('access_token')) {
      setToken(
        { access_token: params.get('access_token'), expires_in: params.get('expires_in') },
        'login',
      );
      return { type: 'token' };
    }
    // Handoff delivery: trade the one-time login code for the JWT.
    const response = await doFetch(url('/auth/session'), {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ login_code: params.get('login_code') }),
    });
    const body = await readBody(response);
    if (!response.ok) {
      const err = errorFrom(response.status, body);
      return { type: 'error', error: err.error, errorDescription: err.description };
    }
    setToken(body, 'login');
    return { type: 'token' };
  }

  /**
   * Get a new JWT with the HttpOnly refresh cookie. Concurrent callers share one request.
   * Resolves true on success, false when there is no session (the token is then cleared).
   * Rejects on network or server errors, retrying later by itself while the session lasts.
   */
  function refresh() {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      let response;
      try {
        response = await exclusive(() =>
          doFetch(url('/auth/refresh'), {
            method: 'POST',
            credentials: 'include',
            headers: { Accept: 'application/json' },
          }),
        );
      } catch (e) {
        if (token && now() < token.expiresAt) schedule(retryDelayMs);
        throw e;
      }
      const body = await readBody(response);
      if (response.ok) {
        setToken(body, 'refresh');
        return true;
      }
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        clearToken('session-ended');
        return false;
      }
      if (token && now() < token.expiresAt) schedule(retryDelayMs);
      throw errorFrom(response.status, body);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** Startup: take a token from the redirect, else try to resume a session from the cookie. */
  async function init() {
    const result = await handleRedirect();
    if (result.type !== 'none') return result;
    try {
      return (await refresh()) ? { type: 'resumed' } : { type: 'none' };
    } catch {
      return { type: 'none' };
    }
  }

  // Renew ahead of expiry. With no token in memory there is nothing to renew: init() resumes
  // a session from the cookie once at start-up, and calls without a session simply get 401.
  async function ensureFresh() {
    if (token === null || !needsRefresh()) return;
    try {
      await refresh();
    } catch {
      /* send what we have; the broker will say 401 if it is no good */
    }
  }

  /**
   * The one renewal path of every call to the broker. `send(sent)` makes one request with the
   * token `sent` (or none) and resolves to something with a `status`. Renews first when the JWT
   * is about to expire. A 401 means the JWT was refused: renew once (unless another call renewed
   * it meanwhile), then send once more if the body can be replayed; a 401 to that fresh token
   * ends the session. Resolves the last answer, whatever its status.
   */
  async function withRenewal(send, { replayable }) {
    await ensureFresh();
    let sent = token;
    let answer = await send(sent);
    if (!sent || answer.status !== 401) return answer;
    // Another call may have renewed the token meanwhile; only refresh if ours is current.
    const renewed = token !== sent || (await refresh().catch(() => false));
    if (!renewed || !token || !replayable) return answer;
    sent = token;
    answer = await send(sent);
    if (token === sent && answer.status === 401) clearToken('session-ended');
    return answer;
  }

  /**
   * fetch() against the broker with the bearer header. Renews the JWT first when it is about
   * to expire, and once more after a 401 (then retries the request once). Returns the Response.
   */
  async function authFetch(path, init = {}) {
    const send = (sent) => {
      const headers = new Headers(init.headers || {});
      if (sent) headers.set('Authorization', `Bearer ${sent.value}`);
      return doFetch(url(path), { ...init, headers });
    };
    return withRenewal(send, { replayable: REPLAYABLE(init.body) });
  }

  /** authFetch + JSON: sends `json` as the body when given; resolves the parsed body or throws BrokerError. */
  async function fetchJson(path, { json, ...init } = {}) {
    const headers = new Headers(init.headers || {});
    headers.set('Accept', 'application/json');
    if (json !== undefined) {
      headers.set('Content-Type', 'application/json');
      init.body = JSON.stringify(json);
    }
    const response = await authFetch(path, { ...init, headers });
    const body = await readBody(response);
    if (!response.ok) throw errorFrom(response.status, body);
    return body;
  }

  /**
   * Send a body (e.g. a File) with XMLHttpRequest so progress can be shown. onProgress gets
   * (loadedBytes, totalBytes). Resolves {status, body}; rejects BrokerError for non-2xx.
   */
  async function upload(path, body, { method = 'PUT', contentType, onProgress, signal } = {}) {
    const send = (sent) =>
      new Promise((resolve, reject) => {
        const xhr = new XHR();
        xhr.open(method, url(path));
        if (sent) xhr.setRequestHeader('Authorization', `Bearer ${sent.value}`);
        if (contentType) xhr.setRequestHeader('Content-Type', contentType);
        xhr.setRequestHeader('Accept', 'application/json');
        if (onProgress && xhr.upload) {
          xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : null);
        }
        xhr.onload = () => {
          let parsed = null;
          try {
            parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null;
          } catch {
            parsed = null;
          }
          resolve({ status: xhr.status, body: parsed });
        };
        xhr.onerror = () => reject(new BrokerError(0, 'network_error', 'The upload could not reach the broker.'));
        xhr.onabort = () => reject(new BrokerError(0, 'aborted', 'The upload was cancelled.'));
        if (signal) signal.addEventListener('abort', () => xhr.abort(), { once: true });
        xhr.send(body);
      });
    const result = await withRenewal(send, { replayable: REPLAYABLE(body) });
    if (result.status < 200 || result.status >= 300) throw errorFrom(result.status, result.body);
    return result;
  }

  /** End the session at the broker (revoke: also revoke the TikTok grant) and forget the JWT. */
  async function logout({ revoke = false } = {}) {
    try {
      const response = await authFetch(revoke ? '/logout?revoke=true' : '/logout', {
        method: 'POST',
        credentials: 'include',
      });
      if (!response.ok && response.status !== 401) {
        throw errorFrom(response.status, await readBody(response));
      }
    } finally {
      clearToken(revoke ? 'disconnect' : 'logout');
    }
  }

  return {
    init,
    handleRedirect,
    login,
    loginUrl,
    refresh,
    fetch: authFetch,
    fetchJson,
    upload,
    logout,
    getState,
    /** Subscribe to auth changes: fn(state, reason). Returns an unsubscribe function. */
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** Forget the in-memory token and stop renewing (e.g. when the app unmounts). */
    dispose() {
      clearToken('dispose');
      listeners.clear();
    },
  };
}

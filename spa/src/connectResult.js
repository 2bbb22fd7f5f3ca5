// The result of a TikTok connect (the demo app's page): the broker sends the browser back with
// #connected=<account_id> or #error=<code> (no nonce: it is no login). Read at import time,
// before brokerClient looks at the fragment, and cleared from the address bar.
function read(win) {
  const params = new URLSearchParams((win.location.hash || '').replace(/^#/, ''));
  if (params.has('nonce') || !(params.has('connected') || params.has('error'))) return null;
  win.history.replaceState(win.history.state, '', win.location.pathname + win.location.search);
  return params.has('connected')
    ? { connected: params.get('connected') }
    : { error: params.get('error'), description: params.get('error_description') || '' };
}

export const connectResult = typeof window === 'undefined' ? null : read(window);

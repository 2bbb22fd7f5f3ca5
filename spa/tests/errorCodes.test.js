import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_MESSAGES, messageFor } from '../src/errorCodes.js';
import { TRY_LATER_CODES } from '../src/posting.js';

describe('ERROR_MESSAGES', () => {
  it('is frozen', () => {
    expect(Object.isFrozen(ERROR_MESSAGES)).toBe(true);
  });

  it('is written one snake_case key per line, as the broker-side test reads it', () => {
    // tests/ on the Python side takes the keys with this regex and checks them against the
    // codes the broker sends; a quoted key or two keys on a line would slip past it.
    const source = readFileSync(new URL('../src/errorCodes.js', import.meta.url), 'utf8');
    const read = [...source.matchAll(/^\s+([a-z0-9_]+):/gm)].map((m) => m[1]);
    expect(read).toEqual(Object.keys(ERROR_MESSAGES));
  });

  it('holds no code the broker never sends', () => {
    // TikTok's codes that the broker maps to its own (scope_not_granted, tiktok_rate_limited,
    // tiktok_invalid_params), and the client's own network_error.
    for (const code of ['scope_not_authorized', 'rate_limit_exceeded', 'invalid_param', 'invalid_params', 'network_error']) {
      expect(ERROR_MESSAGES).not.toHaveProperty(code);
    }
  });

  it('explains every code after which the creator must try later', () => {
    for (const code of TRY_LATER_CODES) expect(ERROR_MESSAGES[code]).toMatch(/try again later/);
  });
});

describe('messageFor', () => {
  it('says a known code in the SPA’s words', () => {
    expect(messageFor('unaudited_client_can_only_post_to_private_accounts', 'ignored')).toMatch(/private accounts/);
    expect(messageFor('scope_not_granted')).toMatch(/tick the posting permissions/);
  });

  it('falls back to the broker’s description, then to the code', () => {
    expect(messageFor('weird', 'Broker said so')).toBe('Broker said so');
    expect(messageFor('weird')).toBe('Something went wrong (weird).');
    expect(messageFor(undefined, undefined)).toBe('Something went wrong.');
    expect(messageFor('constructor', 'Broker said so')).toBe('Broker said so');
  });

  it('explains the client’s own network_error', () => {
    expect(messageFor('network_error', 'The upload could not reach the broker.')).toMatch(/could not be reached/);
  });
});

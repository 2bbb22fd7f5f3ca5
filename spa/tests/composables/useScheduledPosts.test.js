import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { auth } from '../../src/auth.js';
import {
  REFRESH_MS,
  describePost,
  scheduleRequest,
  toRfc3339,
  useScheduledPosts,
} from '../../src/composables/useScheduledPosts.js';
import { withSetup } from '../support/withSetup.js';

const fake = vi.hoisted(() => ({ broker: {} }));
vi.mock('../../src/auth.js', async () => {
  const { reactive } = await import('vue');
  return { auth: reactive({ authenticated: true }), broker: fake.broker };
});

const record = (post_id, status, extra = {}) => ({
  post_id, status, publish_at: null, publish_id: null, post_ids: null, fail_reason: null,
  attempts: 0, next_attempt_at: null, created_at: '2026-11-30T10:00:00+00:00', ...extra,
});
const refusal = (status, error, description) => Object.assign(new Error(error), { status, error, description });
const FORM = {
  title: 'Hi', privacy: 'SELF_ONLY', allowComment: false, allowDuet: false, allowStitch: false,
  commercial: false, yourBrand: false, brandedContent: false, aigc: false,
};

let mounted;
let listing;
function mount(handler = async () => ({ posts: listing })) {
  fake.broker.fetchJson = vi.fn(handler);
  mounted = withSetup(() => useScheduledPosts());
  return mounted.result;
}

beforeEach(() => {
  vi.useFakeTimers();
  listing = [record('pst_1', 'scheduled')];
});
afterEach(() => {
  mounted?.unmount();
  mounted = null;
  auth.authenticated = true;
  vi.useRealTimers();
});

describe('toRfc3339', () => {
  it('gives a datetime-local value the offset this browser has at that date', () => {
    const value = toRfc3339('2026-12-01T18:00');
    expect(value).toMatch(/^2026-12-01T18:00:00[+-]\d{2}:\d{2}$/);
    // The same instant as the browser's own reading of the local time.
    expect(new Date(value).getTime()).toBe(new Date(2026, 11, 1, 18, 0, 0).getTime());
  });

  it('uses the offset in force at that date, not today’s', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Europe/Paris';
    try {
      expect(toRfc3339('2026-12-01T18:00')).toBe('2026-12-01T18:00:00+01:00');
      expect(toRfc3339('2026-07-01T18:30')).toBe('2026-07-01T18:30:00+02:00');
      process.env.TZ = 'America/St_Johns';
      expect(toRfc3339('2026-12-01T08:05')).toBe('2026-12-01T08:05:00-03:30');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('is null for an empty field and refuses junk', () => {
    expect(toRfc3339('')).toBeNull();
    expect(toRfc3339(null)).toBeNull();
    expect(() => toRfc3339('tomorrow')).toThrow(/date and time/);
  });
});

describe('scheduleRequest', () => {
  it('builds a direct video post with its post_info, URL and time', () => {
    const body = scheduleRequest({ mode: 'direct', form: FORM, source: 'video_url', url: ' https://media.example.com/a.mp4 ', publishAt: '2026-12-01T18:00' });
    expect(body).toMatchObject({
      kind: 'video', mode: 'direct', video_url: 'https://media.example.com/a.mp4',
      post_info: { title: 'Hi', privacy_level: 'SELF_ONLY', disable_comment: true },
    });
    expect(body.publish_at).toBe(toRfc3339('2026-12-01T18:00'));
    expect(body).not.toHaveProperty('source_url');
  });

  it('sends a draft with source_url and no time as soon as possible', () => {
    const body = scheduleRequest({ mode: 'draft', form: FORM, source: 'source_url', url: 'https://store.example/v.mp4', publishAt: '' });
    expect(body).toEqual({ kind: 'video', mode: 'draft', post_info: {}, source_url: 'https://store.example/v.mp4' });
  });
});

describe('describePost', () => {
  it('says a failed post’s reason in words', () => {
    expect(describePost(record('p', 'published'))).toBe('Published');
    expect(describePost(record('p', 'failed', { fail_reason: 'spam_risk_text' }))).toMatch(/^Failed: TikTok flagged the title/);
  });
});

describe('useScheduledPosts', () => {
  it('lists the caller’s posts and asks again every few seconds', async () => {
    const s = mount();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.broker.fetchJson).toHaveBeenCalledWith('/api/posts');
    expect(s.posts.value.map((p) => p.status)).toEqual(['scheduled']);
    listing = [record('pst_1', 'published', { post_ids: ['71'] })];
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(fake.broker.fetchJson).toHaveBeenCalledTimes(2);
    expect(s.posts.value[0].status).toBe('published');
  });

  it('stops asking once the page is gone', async () => {
    mount();
    await vi.advanceTimersByTimeAsync(0);
    mounted.unmount();
    mounted = null;
    await vi.advanceTimersByTimeAsync(5 * REFRESH_MS);
    expect(fake.broker.fetchJson).toHaveBeenCalledTimes(1);
  });

  it('schedules with an Idempotency-Key of its own per submission and shows the new post first', async () => {
    const s = mount(async (path, init) => (init?.method === 'POST' ? record('pst_2', 'scheduled') : { posts: listing }));
    await vi.advanceTimersByTimeAsync(0);
    const body = { kind: 'video', mode: 'draft', post_info: {}, video_url: 'https://media.example.com/a.mp4' };
    expect(await s.schedule(body)).toMatchObject({ post_id: 'pst_2' });
    await s.schedule(body);
    const posts = fake.broker.fetchJson.mock.calls.filter(([, init]) => init?.method === 'POST');
    expect(posts.map(([path, init]) => [path, init.json])).toEqual([['/api/posts', body], ['/api/posts', body]]);
    const keys = posts.map(([, init]) => init.headers['Idempotency-Key']);
    expect(keys[0]).toMatch(/^[\x20-\x7e]{1,255}$/);
    expect(keys[0]).not.toBe(keys[1]);
    expect(s.posts.value.map((p) => p.post_id)).toEqual(['pst_2', 'pst_1']);
    expect(s.scheduling.value).toBe(false);
  });

  it('explains a refusal in the broker’s words when the SPA has none', async () => {
    const s = mount(async (path, init) => {
      if (init?.method === 'POST') throw refusal(400, 'media_source_refused', 'The source resolves to a private address.');
      return { posts: listing };
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(await s.schedule({})).toBeNull();
    expect(s.scheduleError.value).toBe('The source resolves to a private address.');
  });

  it('cancels a waiting post and reloads the list; a started one is explained', async () => {
    const s = mount(async (path, init) => {
      if (init?.method === 'DELETE') {
        if (path.endsWith('pst_9')) throw refusal(409, 'post_started', 'x');
        listing = [record('pst_1', 'cancelled')];
        return null;
      }
      return { posts: listing };
    });
    await vi.advanceTimersByTimeAsync(0);
    await s.cancel('pst_1');
    expect(fake.broker.fetchJson).toHaveBeenCalledWith('/api/posts/pst_1', { method: 'DELETE' });
    expect(s.posts.value[0].status).toBe('cancelled');
    expect(s.cancelError.value).toBeNull();
    await s.cancel('pst_9');
    expect(s.cancelError.value).toMatch(/already started or ended/);
    expect(s.cancelling.value).toBeNull();
  });

  it('forgets the posts at logout and asks again at login', async () => {
    const s = mount();
    await vi.advanceTimersByTimeAsync(0);
    auth.authenticated = false;
    await nextTick();
    expect(s.posts.value).toEqual([]);
    auth.authenticated = true;
    await nextTick();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.posts.value).toHaveLength(1);
  });
});

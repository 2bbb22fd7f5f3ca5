import { afterEach, describe, expect, it, vi } from 'vitest';
import { auth } from '../../src/auth.js';
import { compactCount, PAGE_SIZE, useVideos } from '../../src/composables/useVideos.js';
import { withSetup } from '../support/withSetup.js';

const fake = vi.hoisted(() => ({ broker: {} }));
vi.mock('../../src/auth.js', async () => {
  const { reactive } = await import('vue');
  return { auth: reactive({ authenticated: true }), broker: fake.broker };
});

const refusal = (status, error, description) => Object.assign(new Error(error), { status, error, description });
const settle = () => new Promise((r) => setTimeout(r, 0));
const video = (id) => ({ id: String(id), title: `Video ${id}`, view_count: 1200 });

let mounted;
function mount(...answers) {
  fake.broker.fetchJson = vi.fn(async () => {
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  });
  mounted = withSetup(() => useVideos());
  return mounted.result;
}

afterEach(() => {
  mounted.unmount();
  auth.authenticated = true;
});

describe('useVideos', () => {
  it('asks for the first page as the page renders, then the next by cursor', async () => {
    const v = mount({ videos: [video(2)], cursor: 111, has_more: true },
      { videos: [video(1)], cursor: 99, has_more: false });
    await settle();
    const first = new URL(fake.broker.fetchJson.mock.calls[0][0], 'http://x');
    expect(first.pathname).toBe('/api/videos');
    expect(first.searchParams.get('max_count')).toBe(String(PAGE_SIZE));
    expect(first.searchParams.get('fields')).toContain('cover_image_url');
    expect(first.searchParams.has('cursor')).toBe(false);
    expect(v.hasMore.value).toBe(true);

    await v.load({ more: true });
    const second = new URL(fake.broker.fetchJson.mock.calls[1][0], 'http://x');
    expect(second.searchParams.get('cursor')).toBe('111');
    expect(v.videos.value.map((x) => x.id)).toEqual(['2', '1']);
    expect(v.hasMore.value).toBe(false);
  });

  it('asks for the permission instead of showing an error when video.list is missing', async () => {
    const v = mount(refusal(403, 'scope_not_granted', 'needs video.list'));
    await settle();
    expect(v.needsScope.value).toBe(true);
    expect(v.error.value).toBe(null);
    expect(v.videos.value).toEqual([]);
  });

  it("shows TikTok's refusal in words", async () => {
    const v = mount(refusal(429, 'tiktok_rate_limited', 'later'));
    await settle();
    expect(v.error.value).toMatch(/Too many requests/);
    expect(v.needsScope.value).toBe(false);
  });

  it('asks nothing when logged out', async () => {
    auth.authenticated = false;
    mount();
    await settle();
    expect(fake.broker.fetchJson).not.toHaveBeenCalled();
  });
});

describe('compactCount', () => {
  it('shows counts as TikTok does', () => {
    expect(compactCount(1234)).toBe('1.2K');
    expect(compactCount(3_400_000)).toBe('3.4M');
    expect(compactCount(null)).toBe('–');
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { auth } from '../../src/auth.js';
import { useCreatorInfo } from '../../src/composables/useCreatorInfo.js';
import { withSetup } from '../support/withSetup.js';

const fake = vi.hoisted(() => ({ broker: {} }));
vi.mock('../../src/auth.js', async () => {
  const { reactive } = await import('vue');
  return { auth: reactive({ authenticated: true }), broker: fake.broker };
});

const ALICE = {
  creator_nickname: 'Alice',
  privacy_level_options: ['PUBLIC_TO_EVERYONE', 'SELF_ONLY'],
  app_audited: false,
  creator_can_post: true,
};
const refusal = (status, error, description) => Object.assign(new Error(error), { status, error, description });
const settle = () => new Promise((r) => setTimeout(r, 0));

let mounted;
function mount(answer) {
  fake.broker.fetchJson = vi.fn(async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  });
  mounted = withSetup(() => useCreatorInfo());
  return mounted.result;
}

afterEach(() => {
  mounted.unmount();
  auth.authenticated = true;
});

describe('useCreatorInfo', () => {
  it('asks TikTok about the creator as the page renders', async () => {
    const c = mount(ALICE);
    expect(c.infoLoading.value).toBe(true);
    await settle();
    expect(fake.broker.fetchJson).toHaveBeenCalledWith('/api/creator-info');
    expect(c.info.value).toEqual(ALICE);
    expect(c.infoLoading.value).toBe(false);
    expect(c.unaudited.value).toBe(true);
    expect(c.publicWarning.value).toMatch(/account is public/);
    expect([c.infoError.value, c.tryLater.value]).toEqual([null, null]);
  });

  it('blocks every post when TikTok says to try later', async () => {
    const c = mount(refusal(403, 'spam_risk_user_banned_from_posting', 'x'));
    await settle();
    expect(c.tryLater.value).toMatch(/does not allow this account to post/);
    expect(c.infoError.value).toBeNull();
  });

  it('blocks every post when creator_can_post is false', async () => {
    const c = mount({ ...ALICE, creator_can_post: false });
    await settle();
    expect(c.tryLater.value).toMatch(/cannot post right now/);
  });

  it('reports other failures in the broker’s words, blocking direct posts only', async () => {
    const c = mount(refusal(502, 'tiktok_error', 'TikTok could not complete the request.'));
    await settle();
    expect(c.infoError.value).toBe('TikTok could not complete the request.');
    expect(c.tryLater.value).toBeNull();
    expect(c.info.value).toBeNull();
  });

  it('forgets the creator at logout and asks again at login', async () => {
    const c = mount(ALICE);
    await settle();
    auth.authenticated = false;
    await nextTick();
    expect(c.info.value).toBeNull();
    auth.authenticated = true;
    await nextTick();
    await settle();
    expect(fake.broker.fetchJson).toHaveBeenCalledTimes(2);
    expect(c.info.value).toEqual(ALICE);
  });
});

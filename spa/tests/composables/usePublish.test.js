import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ref } from 'vue';
import { usePublish } from '../../src/composables/usePublish.js';
import { withSetup } from '../support/withSetup.js';

const fake = vi.hoisted(() => ({ broker: {} }));
vi.mock('../../src/auth.js', async () => {
  const { reactive } = await import('vue');
  return { auth: reactive({ authenticated: true }), broker: fake.broker };
});

const FILE = { name: 'clip.mp4', size: 1000, type: 'video/mp4' };
const REQUEST = { mode: 'draft', post_info: {}, video_size: 1000 };
const refusal = (status, error, description) => Object.assign(new Error(error), { status, error, description });

let mounted;
function start() {
  const tryLater = ref(null);
  mounted = withSetup(() => usePublish({ tryLater }));
  return { ...mounted.result, tryLater };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  mounted?.unmount();
  vi.useRealTimers();
});

describe('usePublish', () => {
  it('starts the post, uploads with progress and follows the status to its end', async () => {
    const answers = [{ status: 'PROCESSING_UPLOAD' }, { status: 'PUBLISH_COMPLETE', post_ids: ['7'] }];
    fake.broker.fetchJson = vi.fn(async (path) =>
      path === '/api/videos' ? { publish_id: 'p 1', upload_url: '/api/uploads/p1' } : answers.shift(),
    );
    let seenDuringUpload;
    fake.broker.upload = vi.fn(async (_url, _file, opts) => {
      opts.onProgress(250);
      seenDuringUpload = { phase: p.phase.value, percent: p.percent.value };
      return { status: 201, body: null };
    });
    const p = start();
    const done = p.publish(FILE, REQUEST);
    expect(p.phase.value).toBe('starting');
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(seenDuringUpload).toEqual({ phase: 'uploading', percent: 25 });
    expect(p.phase.value).toBe('done');
    expect(p.resultMessage.value).toBe('Published on TikTok.');
    expect(p.percent.value).toBe(100);
    expect(p.publishId.value).toBe('p 1');
    expect(fake.broker.fetchJson.mock.calls).toEqual([
      ['/api/videos', { method: 'POST', json: REQUEST }],
      ['/api/publish/p%201'],
      ['/api/publish/p%201'],
    ]);
    expect(fake.broker.upload).toHaveBeenCalledWith('/api/uploads/p1', FILE, expect.objectContaining({ method: 'PUT', contentType: 'video/mp4' }));
  });

  it('turns a "try later" refusal into a block on every post', async () => {
    fake.broker.fetchJson = vi.fn(async () => {
      throw refusal(403, 'spam_risk_too_many_posts', 'broker words');
    });
    const p = start();
    await p.publish(FILE, REQUEST);
    expect(p.phase.value).toBe('failed');
    expect(p.postError.value).toMatch(/daily limit of posts/);
    expect(p.tryLater.value).toBe(p.postError.value);
  });

  it('keeps following through rate limits and TikTok hiccups, and explains a failed post', async () => {
    const answers = [refusal(429, 'rate_limited'), refusal(503, 'tiktok_unavailable'), { status: 'FAILED', fail_reason: 'duration_check_failed' }];
    fake.broker.fetchJson = vi.fn(async (path) => {
      if (path === '/api/videos') return { publish_id: 'p1' };
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next;
    });
    const p = start();
    const done = p.publish(FILE, REQUEST);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(p.phase.value).toBe('processing');
    await vi.runAllTimersAsync();
    await done;
    expect(fake.broker.fetchJson).toHaveBeenCalledTimes(4);
    expect(p.phase.value).toBe('failed');
    expect(p.postError.value).toBe('The video is longer than TikTok allows for this account.');
    expect(p.tryLater.value).toBeNull();
  });

  it('stops following at any other error, in the broker’s words', async () => {
    fake.broker.fetchJson = vi.fn(async (path) => {
      if (path === '/api/videos') return { publish_id: 'p1' };
      throw refusal(404, 'publish_not_found', 'You have no post with this publish_id.');
    });
    const p = start();
    const done = p.publish(FILE, REQUEST);
    await vi.runAllTimersAsync();
    await done;
    expect(fake.broker.fetchJson).toHaveBeenCalledTimes(2);
    expect(p.phase.value).toBe('failed');
    expect(p.postError.value).toBe('You have no post with this publish_id.');
  });

  it('cancels the upload when the page goes away, and reports nothing', async () => {
    fake.broker.fetchJson = vi.fn(async () => ({ publish_id: 'p1', upload_url: '/api/uploads/p1' }));
    let signal;
    let rejectUpload;
    fake.broker.upload = vi.fn((_url, _file, opts) => {
      signal = opts.signal;
      return new Promise((_resolve, reject) => (rejectUpload = reject));
    });
    const p = start();
    const done = p.publish(FILE, REQUEST);
    await vi.advanceTimersByTimeAsync(0);
    expect(p.phase.value).toBe('uploading');
    mounted.unmount();
    mounted = null;
    expect(signal.aborted).toBe(true);
    rejectUpload(refusal(0, 'aborted', 'The upload was cancelled.'));
    await done;
    expect(p.postError.value).toBeNull();
  });
});

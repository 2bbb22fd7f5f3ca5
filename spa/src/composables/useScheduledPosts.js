// Scheduled posts (SPEC "Posting that survives"): POST /api/posts to schedule one, the caller's
// list (GET /api/posts) asked again every few seconds while the page shows it, and DELETE
// /api/posts/<id> to cancel one still waiting. The broker's worker runs them; this only watches.
import { onBeforeUnmount, onMounted, ref, watch } from 'vue';
import { auth, broker } from '../auth.js';
import { messageFor } from '../errorCodes.js';
import { buildPostInfo, failReasonMessage } from '../posting.js';

export const REFRESH_MS = 3000;
export const CANCELLABLE = Object.freeze(['scheduled', 'deferred']);
export const POST_STATUS_TEXT = Object.freeze({
  scheduled: 'Scheduled',
  deferred: 'Waiting (TikTok limit or retry)',
  running: 'Sending to TikTok',
  processing: 'TikTok is processing it',
  published: 'Published',
  inbox: 'In your TikTok inbox',
  failed: 'Failed',
  cancelled: 'Cancelled',
});

/**
 * A `datetime-local` value ("2026-12-01T18:00") as RFC 3339 with this browser's offset at that
 * date ("2026-12-01T18:00:00+01:00"); "" or null: null (as soon as possible). Throws on junk.
 */
export function toRfc3339(local) {
  if (!local) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) throw new Error('Choose a date and time.');
  const [year, month, day, hour, minute, second = '00'] = m.slice(1);
  const at = new Date(+year, +month - 1, +day, +hour, +minute, +second);
  if (Number.isNaN(at.getTime())) throw new Error('Choose a date and time.');
  const offset = -at.getTimezoneOffset(); // minutes east of UTC
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * The body of POST /api/posts for a video: `source` is "video_url" (TikTok pulls it from a
 * verified domain) or "source_url" (the broker fetches it from the app's storage).
 */
export function scheduleRequest({ mode, form, source, url, publishAt }) {
  const body = {
    kind: 'video',
    mode,
    post_info: mode === 'direct' ? buildPostInfo(form) : {},
    [source === 'source_url' ? 'source_url' : 'video_url']: url.trim(),
  };
  const at = toRfc3339(publishAt);
  if (at) body.publish_at = at;
  return body;
}

/** A post's state in words, with TikTok's reason when it failed. */
export function describePost(post) {
  const text = POST_STATUS_TEXT[post.status] || post.status;
  return post.status === 'failed' ? `${text}: ${failReasonMessage(post.fail_reason)}` : text;
}

function newKey() {
  return globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : `k-${Date.now()}-${Math.random()}`;
}

export function useScheduledPosts({ refreshMs = REFRESH_MS } = {}) {
  const posts = ref([]);
  const loading = ref(false);
  const listError = ref(null);
  const scheduling = ref(false);
  const scheduleError = ref(null);
  const cancelError = ref(null);
  const cancelling = ref(null); // the post_id being cancelled

  let timer = null;
  let stopped = false;

  async function load() {
    if (!auth.authenticated || loading.value) return;
    loading.value = true;
    try {
      const page = await broker.fetchJson('/api/posts');
      posts.value = page.posts;
      listError.value = null;
    } catch (e) {
      listError.value = messageFor(e.error, e.description);
    } finally {
      loading.value = false;
    }
  }

  function startRefreshing() {
    clearInterval(timer);
    timer = stopped ? null : setInterval(load, refreshMs);
  }

  /** Schedule `request` (see scheduleRequest); resolves the new post record, or null on a refusal. */
  async function schedule(request) {
    scheduling.value = true;
    scheduleError.value = null;
    try {
      // One key per submission: a retried request (a lost answer) cannot schedule it twice.
      const post = await broker.fetchJson('/api/posts', {
        method: 'POST',
        json: request,
        headers: { 'Idempotency-Key': newKey() },
      });
      posts.value = [post, ...posts.value.filter((p) => p.post_id !== post.post_id)];
      return post;
    } catch (e) {
      scheduleError.value = messageFor(e.error, e.description);
      return null;
    } finally {
      scheduling.value = false;
    }
  }

  async function cancel(postId) {
    cancelling.value = postId;
    cancelError.value = null;
    try {
      await broker.fetchJson(`/api/posts/${encodeURIComponent(postId)}`, { method: 'DELETE' });
    } catch (e) {
      cancelError.value = messageFor(e.error, e.description);
    } finally {
      cancelling.value = null;
    }
    await load();
  }

  watch(
    () => auth.authenticated,
    (yes) => {
      if (yes) load();
      else posts.value = [];
    },
  );
  onMounted(() => {
    load();
    startRefreshing();
  });
  onBeforeUnmount(() => {
    stopped = true;
    clearInterval(timer);
  });

  return { posts, loading, listError, scheduling, scheduleError, cancelError, cancelling, load, schedule, cancel };
}

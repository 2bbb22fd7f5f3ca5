// One post's life: POST /api/videos, the upload with its progress, then GET /api/publish/<id>
// until TikTok reaches a final status (or a quarter of an hour has passed).
import { computed, onBeforeUnmount, reactive, ref } from 'vue';
import { broker } from '../auth.js';
import { messageFor } from '../errorCodes.js';
import { STATUS_TEXT, TERMINAL_STATUSES, TRY_LATER_CODES, failReasonMessage } from '../posting.js';

const POLL_MS = 2000;
const POLL_LIMIT_MS = 15 * 60 * 1000;

/** `tryLater`: the ref that blocks every post, set when TikTok says this creator must wait. */
export function usePublish({ tryLater }) {
  const phase = ref('idle'); // idle | starting | uploading | processing | done | failed
  const progress = reactive({ loaded: 0, total: 0 });
  const publishId = ref(null);
  const publishState = ref(null); // last body from the broker
  const resultMessage = ref(null);
  const postError = ref(null);

  let aborter = null;
  let pollTimer = null;
  let unmounted = false;

  const busy = computed(() => ['starting', 'uploading', 'processing'].includes(phase.value));
  const percent = computed(() =>
    progress.total ? Math.floor((100 * progress.loaded) / progress.total) : 0,
  );

  function resetResult() {
    phase.value = 'idle';
    progress.loaded = 0;
    progress.total = 0;
    publishId.value = null;
    publishState.value = null;
    resultMessage.value = null;
    postError.value = null;
  }

  function fail(e) {
    phase.value = 'failed';
    postError.value = messageFor(e.error, e.description);
    if (TRY_LATER_CODES.includes(e.error)) tryLater.value = postError.value;
  }

  /** Post `file` with `request`, the body of POST /api/videos (see videoRequest in posting.js). */
  async function publish(file, request) {
    resetResult();
    phase.value = 'starting';
    try {
      const started = await broker.fetchJson('/api/videos', { method: 'POST', json: request });
      publishId.value = started.publish_id;
      if (started.upload_url) {
        phase.value = 'uploading';
        progress.total = file.size;
        aborter = new AbortController();
        const uploaded = await broker.upload(started.upload_url, file, {
          method: 'PUT',
          contentType: file.type || 'video/mp4',
          signal: aborter.signal,
          onProgress: (loaded) => {
            progress.loaded = loaded;
          },
        });
        progress.loaded = file.size;
        if (uploaded.body) publishState.value = uploaded.body;
      }
      phase.value = 'processing';
      await followStatus(Date.now());
    } catch (e) {
      if (!unmounted) fail(e);
    }
  }

  async function followStatus(startedAt) {
    while (!unmounted) {
      const state = publishState.value;
      if (state && TERMINAL_STATUSES.includes(state.status)) break;
      if (Date.now() - startedAt > POLL_LIMIT_MS) {
        resultMessage.value =
          'TikTok is still processing the video. It can take a while; check your TikTok profile later.';
        phase.value = 'done';
        return;
      }
      await new Promise((resolve) => {
        pollTimer = setTimeout(resolve, state ? POLL_MS : 0);
      });
      if (unmounted) return;
      try {
        publishState.value = await broker.fetchJson(`/api/publish/${encodeURIComponent(publishId.value)}`);
      } catch (e) {
        // Rate limits and TikTok hiccups are transient: keep following, a little slower.
        if (!(e.status === 429 || e.status >= 500)) throw e;
        await new Promise((resolve) => {
          pollTimer = setTimeout(resolve, 5 * POLL_MS);
        });
      }
    }
    const state = publishState.value;
    if (!state) return;
    if (state.status === 'FAILED') {
      phase.value = 'failed';
      postError.value = failReasonMessage(state.fail_reason);
    } else {
      phase.value = 'done';
      resultMessage.value = STATUS_TEXT[state.status];
    }
  }

  onBeforeUnmount(() => {
    unmounted = true;
    if (aborter) aborter.abort();
    clearTimeout(pollTimer);
  });

  return { phase, progress, publishId, publishState, resultMessage, postError, busy, percent, publish, resetResult };
}

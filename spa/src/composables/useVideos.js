// The user's public videos (GET /api/videos), a page at a time. Asked again each time the page
// renders: TikTok's cover links expire (6 h), so the page keeps none of its own.
import { onMounted, ref, watch } from 'vue';
import { auth, broker } from '../auth.js';
import { messageFor } from '../errorCodes.js';

export const VIDEO_FIELDS = [
  'id', 'create_time', 'cover_image_url', 'share_url', 'title', 'video_description',
  'duration', 'view_count', 'like_count', 'comment_count', 'share_count',
];
export const PAGE_SIZE = 12;

export function useVideos() {
  const videos = ref([]);
  const cursor = ref(null);
  const hasMore = ref(false);
  const loading = ref(false);
  const error = ref(null);
  const needsScope = ref(false);

  async function load({ more = false } = {}) {
    if (!auth.authenticated || loading.value) return;
    loading.value = true;
    error.value = null;
    const params = new URLSearchParams({ max_count: String(PAGE_SIZE), fields: VIDEO_FIELDS.join(',') });
    if (more && cursor.value != null) params.set('cursor', String(cursor.value));
    try {
      const page = await broker.fetchJson(`/api/videos?${params}`);
      videos.value = more ? [...videos.value, ...page.videos] : page.videos;
      cursor.value = page.cursor;
      hasMore.value = page.has_more;
      needsScope.value = false;
    } catch (e) {
      if (e.error === 'scope_not_granted') needsScope.value = true;
      else error.value = messageFor(e.error, e.description);
    } finally {
      loading.value = false;
    }
  }

  watch(() => auth.authenticated, (yes) => {
    if (yes) load();
    else videos.value = [];
  });
  onMounted(load);

  return { videos, hasMore, loading, error, needsScope, load };
}

/** "1.2K", "3.4M": counts as TikTok shows them. */
export function compactCount(n) {
  if (n == null) return '–';
  return new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

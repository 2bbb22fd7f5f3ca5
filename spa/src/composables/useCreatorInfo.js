// Who is posting: GET /api/creator-info each time the Post page renders (TikTok's Content
// Sharing Guidelines, tiktok-api.md §5.10), and whether this creator can post at all right now.
import { computed, onMounted, ref, watch } from 'vue';
import { auth, broker } from '../auth.js';
import { messageFor } from '../errorCodes.js';
import { TRY_LATER_CODES, creatorBlock, unauditedPublicWarning } from '../posting.js';

export function useCreatorInfo() {
  const info = ref(null);
  const infoLoading = ref(false);
  const infoError = ref(null); // blocks direct posts
  const tryLater = ref(null); // blocks every post

  const unaudited = computed(() => info.value?.app_audited === false);
  const publicWarning = computed(() => unauditedPublicWarning(info.value));

  async function loadCreatorInfo() {
    if (!auth.authenticated) return;
    infoLoading.value = true;
    infoError.value = null;
    tryLater.value = null;
    try {
      const data = await broker.fetchJson('/api/creator-info');
      info.value = data;
      const block = creatorBlock(data);
      if (block) tryLater.value = block;
    } catch (e) {
      info.value = null;
      const message = messageFor(e.error, e.description);
      if (TRY_LATER_CODES.includes(e.error)) tryLater.value = message;
      else infoError.value = message;
    } finally {
      infoLoading.value = false;
    }
  }

  watch(
    () => auth.authenticated,
    (yes) => {
      if (yes) loadCreatorInfo();
      else info.value = null;
    },
  );
  onMounted(loadCreatorInfo); // every time the page renders, as the guidelines ask

  return { info, infoLoading, infoError, tryLater, unaudited, publicWarning, loadCreatorInfo };
}

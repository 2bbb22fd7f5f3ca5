// The chosen video: its type, size and duration checked against the creator's limits before
// anything is sent, and a preview while it is kept.
import { onBeforeUnmount, ref } from 'vue';
import { readDuration } from '../mediaInfo.js';
import { VIDEO_TYPES, checkVideo } from '../posting.js';

/** `info`: a ref to the creator info; `onChoose()` runs whenever another file is picked. */
export function useVideoFile(info, { onChoose = () => {} } = {}) {
  const video = ref(null); // {file, name, size, type, duration, error, previewUrl}
  const checkingVideo = ref(false);

  async function onFile(event) {
    const file = event.target.files && event.target.files[0];
    if (video.value?.previewUrl) URL.revokeObjectURL(video.value.previewUrl);
    video.value = null;
    onChoose();
    if (!file) return;
    checkingVideo.value = true;
    try {
      const duration = VIDEO_TYPES.includes(file.type) ? await readDuration(file) : null;
      const error = checkVideo({ type: file.type, size: file.size, duration }, info.value);
      video.value = {
        file,
        name: file.name,
        size: file.size,
        type: file.type,
        duration,
        error,
        previewUrl: error ? null : URL.createObjectURL(file),
      };
    } finally {
      checkingVideo.value = false;
    }
  }

  onBeforeUnmount(() => {
    if (video.value?.previewUrl) URL.revokeObjectURL(video.value.previewUrl);
  });

  return { video, checkingVideo, onFile };
}

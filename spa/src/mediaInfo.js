// Read a video's duration in the browser: from a <video> element, else (for MP4/MOV files the
// browser cannot decode) from the container's `mvhd` box.

export function durationFromElement(file, timeoutMs = 8000) {
  return new Promise((resolve) => {
    const video = document.createElement('video');
    const src = URL.createObjectURL(file);
    const done = (value) => {
      clearTimeout(timer);
      video.removeAttribute('src');
      video.load();
      URL.revokeObjectURL(src);
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    video.preload = 'metadata';
    video.muted = true;
    video.onloadedmetadata = () => {
      if (Number.isFinite(video.duration)) return done(video.duration);
      // Some recorders leave the duration unknown until the end is seeked.
      video.ondurationchange = () => Number.isFinite(video.duration) && done(video.duration);
      video.currentTime = 1e9;
    };
    video.onerror = () => done(null);
    video.src = src;
  });
}

/** Duration in seconds from the first `moov/mvhd` box in `buffer` (ArrayBuffer), or null. */
export function durationFromMp4(buffer) {
  const view = new DataView(buffer);
  const walk = (start, end) => {
    let pos = start;
    while (pos + 8 <= end) {
      let size = view.getUint32(pos);
      const type = String.fromCharCode(...new Uint8Array(buffer, pos + 4, 4));
      let header = 8;
      if (size === 1 && pos + 16 <= end) {
        size = Number(view.getBigUint64(pos + 8));
        header = 16;
      } else if (size === 0) {
        size = end - pos;
      }
      if (size < header) return null;
      if (type === 'moov') return walk(pos + header, Math.min(end, pos + size));
      if (type === 'mvhd' && pos + header + 32 <= end) {
        const version = view.getUint8(pos + header);
        const timescale = view.getUint32(pos + header + (version === 1 ? 20 : 12));
        const duration =
          version === 1
            ? Number(view.getBigUint64(pos + header + 24))
            : view.getUint32(pos + header + 16);
        return timescale ? duration / timescale : null;
      }
      pos += size;
    }
    return null;
  };
  return walk(0, buffer.byteLength);
}

export async function readDuration(file) {
  const fromElement = await durationFromElement(file);
  if (fromElement != null && fromElement > 0) return fromElement;
  if (file.type === 'video/mp4' || file.type === 'video/quicktime') {
    // Fast-start files keep moov at the beginning; walk the top-level boxes of the first 8 MiB.
    try {
      const d = durationFromMp4(await file.slice(0, 8 * 1024 * 1024).arrayBuffer());
      if (d) return d;
    } catch {
      /* not parseable */
    }
  }
  return null;
}

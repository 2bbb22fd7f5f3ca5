import { describe, expect, it } from 'vitest';
import { nextTick, ref } from 'vue';
import { usePostForm } from '../../src/composables/usePostForm.js';
import { withSetup } from '../support/withSetup.js';

const AUDITED = { privacy_level_options: ['PUBLIC_TO_EVERYONE', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'], app_audited: true };

function setup(info = AUDITED) {
  const infoRef = ref(info);
  const { result, unmount } = withSetup(() => usePostForm(infoRef));
  return { ...result, info: infoRef, unmount };
}

describe('usePostForm', () => {
  it('starts as a direct post with nothing chosen or allowed', () => {
    const f = setup();
    expect(f.mode.value).toBe('direct');
    expect(f.form).toMatchObject({ privacy: '', allowComment: false, allowDuet: false, allowStitch: false, commercial: false });
    f.unmount();
  });

  it('moves branded content away from "Only me" and says so', async () => {
    const f = setup();
    f.form.privacy = 'SELF_ONLY';
    f.form.commercial = true;
    f.form.brandedContent = true;
    await nextTick();
    expect(f.form.privacy).toBe('PUBLIC_TO_EVERYONE');
    expect(f.privacyNotice.value).toMatch(/cannot be set to private\. Visibility was changed to “Everyone”/);
    expect(f.label.value).toBe('Paid partnership');
    f.form.brandedContent = false;
    await nextTick();
    expect(f.privacyNotice.value).toBeNull();
    f.unmount();
  });

  it('clears "Your brand" and "Branded content" when the disclosure is turned off', async () => {
    const f = setup();
    f.form.commercial = true;
    f.form.yourBrand = true;
    f.form.brandedContent = true;
    await nextTick();
    f.form.commercial = false;
    await nextTick();
    expect([f.form.yourBrand, f.form.brandedContent]).toEqual([false, false]);
    f.unmount();
  });

  it('drops a chosen visibility that fresh creator info no longer offers', () => {
    const f = setup();
    f.form.privacy = 'FOLLOWER_OF_CREATOR';
    f.info.value = { ...AUDITED, privacy_level_options: ['FOLLOWER_OF_CREATOR', 'SELF_ONLY'] };
    expect(f.form.privacy).toBe('FOLLOWER_OF_CREATOR');
    f.info.value = { ...AUDITED, app_audited: false };
    expect(f.form.privacy).toBe('');
    f.unmount();
  });
});

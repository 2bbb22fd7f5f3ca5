// The Post form's state and the guidelines' rules that act on it while the creator fills it in:
// no default visibility, branded content never private, sub-choices cleared with their switch.
import { computed, reactive, ref, watch } from 'vue';
import {
  BRANDED_NOT_PRIVATE,
  brandedContentAvailable,
  commercialLabel,
  privacyChoices,
} from '../posting.js';

/** `info`: a ref to the creator info (null until it is loaded). */
export function usePostForm(info) {
  const mode = ref('direct'); // direct | draft
  const form = reactive({
    title: '',
    privacy: '', // no default, on purpose
    allowComment: false,
    allowDuet: false,
    allowStitch: false,
    commercial: false,
    yourBrand: false,
    brandedContent: false,
    aigc: false,
  });
  const privacyNotice = ref(null);

  const choices = computed(() => privacyChoices(info.value, { brandedContent: form.brandedContent }));
  const brandedPossible = computed(() => brandedContentAvailable(info.value));
  const label = computed(() => commercialLabel(form));

  // Fresh creator info: keep the chosen visibility only if it is still on offer.
  watch(
    info,
    (data) => {
      if (data && form.privacy && !privacyChoices(data).some((c) => c.value === form.privacy)) {
        form.privacy = '';
      }
    },
    { flush: 'sync' },
  );
  // Branded content cannot be private: switch away from "Only me" and say so.
  watch(
    () => form.brandedContent,
    (branded) => {
      privacyNotice.value = null;
      if (branded && form.privacy === 'SELF_ONLY') {
        const next =
          choices.value.find((c) => c.value === 'PUBLIC_TO_EVERYONE') ||
          choices.value.find((c) => !c.disabled);
        form.privacy = next ? next.value : '';
        privacyNotice.value = `${BRANDED_NOT_PRIVATE} Visibility was changed to “${next ? next.label : 'none'}”; check it before posting.`;
      }
    },
  );
  watch(
    () => form.commercial,
    (on) => {
      if (!on) {
        form.yourBrand = false;
        form.brandedContent = false;
      }
    },
  );

  return { mode, form, privacyNotice, choices, brandedPossible, label };
}

// Rules of TikTok's Content Sharing Guidelines (tiktok-api.md §5.10) as plain functions, so the
// Post page stays declarative and the rules are unit-tested (tests/posting.test.js).
import { ERROR_MESSAGES } from './errorCodes.js';

export const PRIVACY_LABELS = {
  PUBLIC_TO_EVERYONE: 'Everyone',
  MUTUAL_FOLLOW_FRIENDS: 'Friends (followers you follow back)',
  FOLLOWER_OF_CREATOR: 'Followers',
  SELF_ONLY: 'Only me',
};

export const BRANDED_NOT_PRIVATE = ERROR_MESSAGES.branded_content_private;
export const UNAUDITED_EXPLANATION =
  'This app has not passed TikTok’s Content Posting audit yet. Until it does, TikTok only accepts ' +
  'private posts from it, so “Only me” is the only visibility on offer.';
export const TITLE_MAX = 2200; // UTF-16 code units, as TikTok counts them (JS string length)
export const MAX_VIDEO_BYTES = 4 * 1024 ** 3;
export const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/webm'];
export const TERMINAL_STATUSES = ['PUBLISH_COMPLETE', 'FAILED', 'SEND_TO_USER_INBOX'];

// creator_info (and posting) errors after which the creator cannot post for now.
export const TRY_LATER_CODES = [
  'spam_risk_too_many_posts',
  'spam_risk_user_banned_from_posting',
  'reached_active_user_cap',
  'spam_risk_too_many_pending_share',
  'creator_cannot_post',
];

const FAIL_REASONS = {
  file_format_check_failed: 'TikTok could not read the file. Use an MP4 (H.264), WebM or MOV video.',
  duration_check_failed: 'The video is longer than TikTok allows for this account.',
  frame_rate_check_failed: 'The video’s frame rate must be between 23 and 60 frames per second.',
  picture_size_check_failed: 'The video’s width and height must each be between 360 and 4096 pixels.',
  internal: 'TikTok had an internal problem processing the video. Please try again.',
  video_pull_failed: 'TikTok could not download the video.',
  photo_pull_failed: 'TikTok could not download the photos.',
  publish_cancelled: 'The post was cancelled.',
  auth_removed: 'You disconnected this app from TikTok, so the post was stopped.',
  spam_risk_too_many_posts: ERROR_MESSAGES.spam_risk_too_many_posts,
  spam_risk_user_banned_from_posting: ERROR_MESSAGES.spam_risk_user_banned_from_posting,
  spam_risk_text: 'TikTok flagged the title as spam. Change it and try again.',
  spam_risk: 'TikTok flagged the post as a spam risk.',
};

export function failReasonMessage(reason) {
  return FAIL_REASONS[reason] || (reason ? `TikTok could not publish the video (${reason}).` : 'TikTok could not publish the video.');
}

export const STATUS_TEXT = {
  PROCESSING_UPLOAD: 'TikTok is processing the upload…',
  PROCESSING_DOWNLOAD: 'TikTok is downloading the video…',
  SEND_TO_USER_INBOX: 'Sent to your TikTok inbox. Open the TikTok app to finish the post.',
  PUBLISH_COMPLETE: 'Published on TikTok.',
  FAILED: 'The post failed.',
};

/** Why the creator cannot post now (creator_info says so), or null. */
export function creatorBlock(info) {
  if (info && info.creator_can_post === false) {
    return ERROR_MESSAGES.creator_cannot_post;
  }
  return null;
}

/**
 * The privacy dropdown: the creator's options (only SELF_ONLY for an unaudited app), with
 * "Only me" disabled while branded content is ticked.
 */
export function privacyChoices(info, { brandedContent = false } = {}) {
  // The broker says which of the creator's options this app may use; else apply §5.9 here.
  let options = Array.isArray(info?.allowed_privacy_level_options)
    ? info.allowed_privacy_level_options
    : Array.isArray(info?.privacy_level_options)
      ? info.privacy_level_options
      : [];
  if (info && info.app_audited === false) options = options.filter((o) => o === 'SELF_ONLY');
  return options.map((value) => {
    const disabled = brandedContent && value === 'SELF_ONLY';
    return {
      value,
      label: PRIVACY_LABELS[value] || value,
      disabled,
      title: disabled ? BRANDED_NOT_PRIVATE : '',
    };
  });
}

/** "Branded content" can only be ticked when some non-private visibility exists. */
export function brandedContentAvailable(info) {
  return privacyChoices(info).some((c) => c.value !== 'SELF_ONLY');
}

/** The label TikTok will put on the post, from the commercial content disclosure. */
export function commercialLabel({ commercial, yourBrand, brandedContent }) {
  if (!commercial) return null;
  if (brandedContent) return 'Paid partnership';
  if (yourBrand) return 'Promotional content';
  return null;
}

/** Everything that stops the Publish button, as sentences (empty when the post can go). */
export function publishBlockers({ mode, form, video, info, infoError, busy }) {
  const out = [];
  if (busy) out.push('A post is in progress.');
  if (infoError) out.push(infoError);
  if (!video) out.push('Choose a video.');
  else if (video.error) out.push(video.error);
  if (mode === 'direct') {
    if (!form.privacy) out.push(ERROR_MESSAGES.privacy_level_required);
    if (form.commercial && !form.yourBrand && !form.brandedContent) {
      out.push('You need to indicate if your content promotes yourself, a third party, or both.');
    }
    if (form.brandedContent && form.privacy === 'SELF_ONLY') out.push(BRANDED_NOT_PRIVATE);
    if (form.title.length > TITLE_MAX) out.push(`The title is longer than ${TITLE_MAX} characters.`);
  }
  return out;
}

/** Check a chosen file and its duration (seconds) against the creator's limits. */
export function checkVideo({ type, size, duration }, info) {
  if (type && !VIDEO_TYPES.includes(type)) return 'Choose an MP4, WebM or MOV video.';
  if (size === 0) return 'The file is empty.';
  if (size > MAX_VIDEO_BYTES) return ERROR_MESSAGES.video_too_large;
  if (duration == null || !Number.isFinite(duration)) return 'The video’s length could not be read.';
  const max = info?.max_video_post_duration_sec;
  if (Number.isFinite(max) && duration > max) {
    return `This video is ${formatDuration(duration)} long; your account can post videos of at most ${formatDuration(max)}.`;
  }
  return null;
}

export function formatDuration(seconds) {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

/** The body of POST /api/videos: a direct post with its `post_info`, or a draft for the inbox. */
export function videoRequest(mode, form, videoSize) {
  return mode === 'direct'
    ? { mode: 'direct', post_info: buildPostInfo(form), video_size: videoSize }
    : { mode: 'draft', post_info: {}, video_size: videoSize };
}

/** The `post_info` sent to POST /api/videos for a direct post. */
export function buildPostInfo(form) {
  return {
    title: form.title,
    privacy_level: form.privacy,
    disable_comment: !form.allowComment,
    disable_duet: !form.allowDuet,
    disable_stitch: !form.allowStitch,
    brand_content_toggle: Boolean(form.commercial && form.brandedContent),
    brand_organic_toggle: Boolean(form.commercial && form.yourBrand),
    is_aigc: Boolean(form.aigc),
  };
}

/** Before the audit TikTok takes posts only from private accounts (§5.9): warn a public one. */
export function unauditedPublicWarning(info) {
  if (!info || info.app_audited !== false) return null;
  const options = Array.isArray(info.privacy_level_options) ? info.privacy_level_options : [];
  if (!options.includes('PUBLIC_TO_EVERYONE')) return null;
  return (
    'Your TikTok account is public. Until this app passes the audit, TikTok accepts its direct ' +
    'posts only from private accounts: make your account private in the TikTok app first, or ' +
    'send the video to your inbox as a draft instead.'
  );
}

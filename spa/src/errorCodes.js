// The error codes the broker sends (`{"error": <code>, ...}`) that this SPA meets and explains in
// its own words. Every key is a code the broker really sends: its error classes and raise sites
// (broker/**/*.py) and the TikTok codes it passes through (API_ERRORS in broker/tiktok/errors.py);
// a Python test reads the keys below, one per line, and checks them against the broker's list.
// Codes without a sentence here show the broker's own error_description.

export const ERROR_MESSAGES = Object.freeze({
  // TikTok's own codes, passed on so "try later" caps can be told apart from fixable requests.
  spam_risk_too_many_posts:
    'You have reached TikTok’s daily limit of posts for this account. Please try again later.',
  spam_risk_user_banned_from_posting:
    'TikTok does not allow this account to post right now. Please try again later.',
  reached_active_user_cap:
    'This app has reached TikTok’s daily limit of creators who can post through it. Please try again later.',
  spam_risk_too_many_pending_share:
    'You already have 5 drafts waiting in your TikTok inbox today. Finish or delete some in the TikTok app, then try again later.',
  unaudited_client_can_only_post_to_private_accounts:
    'This app has not passed TikTok’s audit, so it can only post for private accounts, visible to “Only me”. ' +
    'Make your TikTok account private, or ask the app owner to complete the audit.',
  privacy_level_option_mismatch:
    'TikTok does not offer the visibility you chose for this account any more. Reload the page and choose again.',
  // The broker's own checks of a post, before TikTok sees it.
  creator_cannot_post: 'TikTok says this account cannot post right now. Please try again later.',
  unaudited_app_self_only:
    'This app has not passed TikTok’s audit, so its posts can only be visible to “Only me”.',
  privacy_level_required: 'Choose who can see this video.',
  branded_content_private: 'Branded content visibility cannot be set to private.',
  title_too_long: 'The title is too long for TikTok.',
  video_too_large: 'TikTok accepts videos of at most 4 GB.',
  scope_not_granted:
    'You did not allow this app to post for you. Log out, log in again and tick the posting permissions.',
  // Scheduled posts (/api/posts). media_source_refused has none: the broker's text names the reason.
  post_started: 'That post has already started or ended, so it can no longer be cancelled.',
  post_not_found: 'That post no longer exists.',
  // Uploads, limits and the session.
  upload_url_expired: 'The upload took too long and TikTok’s upload link expired. Start the post again.',
  tiktok_rate_limited: 'Too many requests to TikTok in a short time. Wait a minute and try again.',
  invalid_request: 'The request was refused. Check the form and try again.',
  invalid_token: 'Your session has ended. Please log in again.',
});

// Codes brokerClient makes itself when no answer came from the broker at all. They are not the
// broker's, so they stay out of ERROR_MESSAGES (and out of the line-per-key form the test reads).
const CLIENT_MESSAGES = new Map([
  ['network_error', 'The broker could not be reached. Check your connection and try again.'],
]);

/** A sentence for an error code, else the broker's own description, else a generic one. */
export function messageFor(code, fallbackDescription) {
  if (code && Object.hasOwn(ERROR_MESSAGES, code)) return ERROR_MESSAGES[code];
  if (CLIENT_MESSAGES.has(code)) return CLIENT_MESSAGES.get(code);
  if (fallbackDescription) return fallbackDescription;
  return code ? `Something went wrong (${code}).` : 'Something went wrong.';
}

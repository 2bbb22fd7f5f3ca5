import { describe, expect, it } from 'vitest';
import {
  BRANDED_NOT_PRIVATE,
  buildPostInfo,
  checkVideo,
  commercialLabel,
  creatorBlock,
  privacyChoices,
  publishBlockers,
  videoRequest,
} from '../src/posting.js';

const PUBLIC = ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY'];
const form = (over = {}) => ({
  title: '', privacy: '', allowComment: false, allowDuet: false, allowStitch: false,
  commercial: false, yourBrand: false, brandedContent: false, aigc: false, ...over,
});
const video = { name: 'a.mp4', size: 10, duration: 3, error: null };

describe('privacy choices', () => {
  it('are the creator’s options for an audited app', () => {
    const c = privacyChoices({ privacy_level_options: PUBLIC, app_audited: true });
    expect(c.map((x) => x.value)).toEqual(PUBLIC);
    expect(c.map((x) => x.label)).toContain('Only me');
  });
  it('are only "Only me" for an unaudited app', () => {
    const c = privacyChoices({ privacy_level_options: PUBLIC, app_audited: false });
    expect(c.map((x) => x.label)).toEqual(['Only me']);
  });
  it('disable "Only me" with a hint while branded content is ticked', () => {
    const c = privacyChoices({ privacy_level_options: PUBLIC, app_audited: true }, { brandedContent: true });
    expect(c.find((x) => x.value === 'SELF_ONLY')).toMatchObject({ disabled: true, title: BRANDED_NOT_PRIVATE });
  });
});

describe('publish blockers', () => {
  it('require a privacy choice (no default)', () => {
    expect(publishBlockers({ mode: 'direct', form: form(), video })).toEqual(['Choose who can see this video.']);
    expect(publishBlockers({ mode: 'direct', form: form({ privacy: 'SELF_ONLY' }), video })).toEqual([]);
  });
  it('require a box once commercial content is on', () => {
    const f = form({ privacy: 'PUBLIC_TO_EVERYONE', commercial: true });
    expect(publishBlockers({ mode: 'direct', form: f, video })[0]).toMatch(/promotes yourself, a third party, or both/);
    f.yourBrand = true;
    expect(publishBlockers({ mode: 'direct', form: f, video })).toEqual([]);
  });
  it('drafts need only a video', () => {
    expect(publishBlockers({ mode: 'draft', form: form(), video })).toEqual([]);
    expect(publishBlockers({ mode: 'draft', form: form(), video: null })).toEqual(['Choose a video.']);
  });
});

describe('videos', () => {
  it('are checked against the creator’s maximum duration', () => {
    const info = { max_video_post_duration_sec: 180 };
    expect(checkVideo({ type: 'video/mp4', size: 5, duration: 179.5 }, info)).toBeNull();
    expect(checkVideo({ type: 'video/mp4', size: 5, duration: 181 }, info)).toMatch(/at most 3 min 00 s/);
    expect(checkVideo({ type: 'image/png', size: 5, duration: 1 }, info)).toMatch(/MP4/);
    expect(checkVideo({ type: 'video/mp4', size: 5, duration: null }, info)).toMatch(/could not be read/);
  });
});

describe('post_info and labels', () => {
  it('maps the form to TikTok’s fields, interactions off unless allowed', () => {
    expect(buildPostInfo(form({ title: 'hi', privacy: 'SELF_ONLY', allowDuet: true }))).toEqual({
      title: 'hi', privacy_level: 'SELF_ONLY', disable_comment: true, disable_duet: false,
      disable_stitch: true, brand_content_toggle: false, brand_organic_toggle: false, is_aigc: false,
    });
  });
  it('labels commercial content as TikTok does', () => {
    expect(commercialLabel(form({ commercial: true, yourBrand: true }))).toBe('Promotional content');
    expect(commercialLabel(form({ commercial: true, yourBrand: true, brandedContent: true }))).toBe('Paid partnership');
    expect(commercialLabel(form({ yourBrand: true }))).toBeNull();
  });
  it('builds a direct post with its post_info, a draft without one', () => {
    const f = form({ title: 'hi', privacy: 'SELF_ONLY' });
    expect(videoRequest('direct', f, 42)).toEqual({ mode: 'direct', post_info: buildPostInfo(f), video_size: 42 });
    expect(videoRequest('draft', f, 42)).toEqual({ mode: 'draft', post_info: {}, video_size: 42 });
  });
  it('explains why a creator cannot post', () => {
    expect(creatorBlock({ creator_can_post: false })).toMatch(/try again later/);
    expect(creatorBlock({})).toBeNull();
  });
});

describe('broker hints', () => {
  it('prefer the broker’s allowed_privacy_level_options', () => {
    const c = privacyChoices({ privacy_level_options: PUBLIC, allowed_privacy_level_options: ['SELF_ONLY'], app_audited: true });
    expect(c.map((x) => x.value)).toEqual(['SELF_ONLY']);
  });
});

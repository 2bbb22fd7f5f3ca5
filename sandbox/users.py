"""Built-in test users: every profile field of every scope (§4) and their creator info (§5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Field -> scope needed to read it (tiktok-api.md §4, after the 02/29/2024 scope migration).
FIELD_SCOPES: dict[str, str] = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}

# Scopes the sandbox app may request; anything else is a bad `scope` on the authorize page.
KNOWN_SCOPES: tuple[str, ...] = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
    "video.list",
)

PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]  # §5.1
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]  # §5.1


@dataclass(frozen=True)
class TestUser:
    """A TikTok account a tester can log in as on the consent page."""

    open_id: str
    username: str
    display_name: str
    bio: str
    private: bool = False
    banned: bool = False  # creator_info answers spam_risk_user_banned_from_posting (§5.1)
    at_cap: bool = False  # starts at the daily cap: spam_risk_too_many_posts (§5.9)
    is_verified: bool = False
    followers: int = 0
    following: int = 0
    likes: int = 0
    videos: int = 0
    max_duration: int = 600
    comment_disabled: bool = False
    label: str = ""

    @property
    def union_id(self) -> str:
        """The per-developer id; stable and distinct from the per-app open_id."""
        return "u" + self.open_id.lstrip("-")[3:] + ".union.sandbox"

    def profile(self, base_url: str) -> dict[str, Any]:
        """Every user-info field (§4); the caller filters by requested fields and scopes."""
        avatar = f"{base_url}avatars/{self.username}"
        return {
            "open_id": self.open_id,
            "union_id": self.union_id,
            "avatar_url": f"{avatar}.jpeg",
            "avatar_url_100": f"{avatar}_100.jpeg",
            "avatar_large_url": f"{avatar}_large.jpeg",
            "display_name": self.display_name,
            "bio_description": self.bio,
            "profile_deep_link": f"https://vm.tiktok.com/sandbox/@{self.username}",
            "is_verified": self.is_verified,
            "username": self.username,
            "follower_count": self.followers,
            "following_count": self.following,
            "likes_count": self.likes,
            "video_count": self.videos,
        }

    def creator_info(self, base_url: str) -> dict[str, Any]:
        """The creator_info data (§5.1): private accounts get no duet/stitch."""
        return {
            "creator_avatar_url": f"{base_url}avatars/{self.username}.jpeg",
            "creator_username": self.username,
            "creator_nickname": self.display_name,
            "privacy_level_options": list(PRIVATE_OPTIONS if self.private else PUBLIC_OPTIONS),
            "comment_disabled": self.comment_disabled,
            "duet_disabled": self.private,  # §5.1: true for private accounts
            "stitch_disabled": self.private,  # §5.1: true for private accounts
            "max_video_post_duration_sec": self.max_duration,
        }


USERS: tuple[TestUser, ...] = (
    TestUser(
        open_id="-000alice",
        username="alice.sandbox",
        display_name="Alice (public)",
        bio="Public account that can post.",
        is_verified=True,
        followers=12840,
        following=312,
        likes=99120,
        videos=87,
        label="public account",
    ),
    TestUser(
        open_id="-000bob",
        username="bob.sandbox",
        display_name="Bob (private)",
        bio="Private account: no duet or stitch.",
        private=True,
        followers=42,
        following=51,
        likes=310,
        videos=6,
        max_duration=180,
        label="private account",
    ),
    TestUser(
        open_id="-000carol",
        username="carol.sandbox",
        display_name="Carol (banned)",
        bio="Banned from posting.",
        banned=True,
        followers=5,
        following=9,
        likes=0,
        videos=1,
        max_duration=300,
        label="banned from posting",
    ),
    TestUser(
        open_id="-000dave",
        username="dave.sandbox",
        display_name="Dave (at posting cap)",
        bio="Has posted his 15 videos today.",
        at_cap=True,
        followers=2048,
        following=128,
        likes=40960,
        videos=512,
        label="at the daily posting cap",
    ),
)

USERS_BY_ID: dict[str, TestUser] = {u.open_id: u for u in USERS}

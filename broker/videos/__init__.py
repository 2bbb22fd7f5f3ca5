"""The user's own videos (Display API): field selection by scope, a short per-account cache that
never outlives a cover URL, and TikTok's per-app budget shared by every replica."""

"""Posting to TikTok for a user: the checks made before TikTok hears of a post (and the chunk
plan), starting posts, streaming uploads, the publish records and TikTok's per-user call budget.
"""

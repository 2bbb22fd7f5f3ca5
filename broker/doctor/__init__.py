"""`python -m broker doctor`: a live check of the TikTok app's setup, each finding with its fix.

It asks TikTok (through broker.tiktok.app_checks) and the broker's own public URL, never a user,
and runs unchanged against the sandbox and real TikTok.
"""

"""Apps with their own users: service keys for the app's backend, connect sessions that link a
TikTok account to the app's user, the links themselves, and acting for a linked account."""

"""A demo backend of an app with its own users, publishing to TikTok through the broker's
service API (see app.py; run with `python -m demo_app`)."""

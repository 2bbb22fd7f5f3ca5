"""Signing in: the login use case (OAuth transaction, code exchange, session, delivery to the
SPA), the broker's own sessions and JWTs, its cookies, and where a browser may be sent back to.
"""

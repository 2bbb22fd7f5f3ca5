"""Redis, the broker's only state: the connection (plain, TLS, unix socket or Sentinel), the
keyspace (every key's prefix and TTL in one table), and the Vault that seals secrets at rest.
"""

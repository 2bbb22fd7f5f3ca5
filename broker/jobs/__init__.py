"""Posting that survives: idempotency keys, scheduled posts run by the worker (RQ), their records,
and the signed events sent to the app's backend."""

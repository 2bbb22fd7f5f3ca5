"""Configuration, at the bottom of the stack: the frozen Settings (the only home of defaults),
reading and validating them from the environment, and the JWT signing keys.

Nothing here imports another broker package.
"""

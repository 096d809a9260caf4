"""Typed settings, one model per component, all read from `LOGTRACE_*` environment variables.

Each model rejects unknown keys and bad values at start-up with a message naming the variable.
"""

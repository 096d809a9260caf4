"""Pure parsers: raw bytes in, ECS documents (flat dotted keys) or ParseError results out.

No I/O, no clock, no logging here: callers inject `received_at` so output is deterministic.
"""

"""Trace correlation, pure half: span/log projections, per-trace accumulation, trace summary documents.

No faust, Kafka or clock here: the worker passes processing time in and mirrors the tracker's mapping
into a changelog-backed table.
"""

"""Derived RED metrics, pure half: per-batch partials, their mergeable sketches, event-time windows.

Two stages, correct with N workers: each worker aggregates its batch into partials per (window, key);
the worker owning a key merges the partials of all workers and closes windows on a watermark. Counts
of parts add up; quantiles come from merged DDSketches, never from averaging the parts' quantiles.
"""

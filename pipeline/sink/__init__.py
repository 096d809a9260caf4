"""The Elasticsearch sink: routing, document ids, bulk delivery, dead letters.

Delivery guarantee: at-least-once, idempotent within a backing index. Every document has a
deterministic id and is written with op_type `create`, so a replay of the same record gets 409
(counted as already indexed). Ids are unique per backing index only: a rollover between a write and
its replay can duplicate that document in the new backing index.
"""

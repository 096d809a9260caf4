"""The one result shape every parser returns: a list of documents and/or parse errors.

A document is a flat dict keyed by dotted ECS names (`{"log.level": "info"}`), so the place a field
is set can be found by grepping its name. A list because one record (an OTLP request) can hold many.
"""

from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParseError:
    """An input the pipeline must dead-letter: `reason` is a specific snake_case code, never `error`."""

    reason: str
    detail: str


Outcome = list[Doc | ParseError]

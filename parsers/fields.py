"""The declared field names of `mappings/fields.yml`, for code that must know what is declared."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FIELDS_FILE = Path(__file__).resolve().parents[1] / "mappings" / "fields.yml"


@cache
def declared() -> dict[str, dict[str, Any]]:
    """Field name -> its entry in the field dictionary (loaded once per process)."""
    with FIELDS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["fields"]


def is_declared(name: str) -> bool:
    """True when `name` is a declared field, or lies under a declared flattened/object field."""
    fields = declared()
    if name in fields:
        return True
    parts = name.split(".")
    for i in range(1, len(parts)):
        entry = fields.get(".".join(parts[:i]))
        if entry is not None and entry["type"] in ("flattened", "object"):
            return True
    return False

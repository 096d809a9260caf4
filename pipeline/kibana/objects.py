"""Every saved object of the bundle, in bundle order, with ids checked to be unique."""

from typing import Any

from pipeline.kibana.bundle import sort_key
from pipeline.kibana.dashboards import dashboard_objects
from pipeline.kibana.dataviews import data_view_objects
from pipeline.kibana.searches import search_objects


def all_objects() -> list[dict[str, Any]]:
    """Data views, saved searches, Lens visualizations and dashboards (decoded form)."""
    objects = sorted([*data_view_objects(), *search_objects(), *dashboard_objects()], key=sort_key)
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        key = (obj["type"], obj["id"])
        if key in seen:
            raise ValueError(f"two saved objects share the id {obj['type']}:{obj['id']}")
        seen.add(key)
    return objects

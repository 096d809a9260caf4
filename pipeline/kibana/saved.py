"""The envelope every saved object of the bundle shares: type, stable id, migration versions, references.

`coreMigrationVersion` 8.8.0 and the per-type `typeMigrationVersion` are what Kibana 8.x writes into its
exports (8.8.0 is the last core migration version of 8.x). They tell Kibana which migrations the object
already went through: the attributes here have the shape of that version, and Kibana migrates them
forward on import. Lens and dashboards use the 8.9.0 shapes, so the bundle needs Kibana 8.9 or later.
"""

from typing import Any

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSIONS = {
    "index-pattern": "8.0.0",
    "search": "8.0.0",
    "lens": "8.9.0",
    "dashboard": "8.9.0",
}


def reference(ref_type: str, ref_id: str, name: str) -> dict[str, str]:
    """A reference entry: the object of `ref_type`/`ref_id`, known inside the attributes as `name`."""
    return {"id": ref_id, "name": name, "type": ref_type}


def saved_object(
    object_type: str, object_id: str, attributes: dict[str, Any], references: list[dict[str, str]]
) -> dict[str, Any]:
    """A saved object as Kibana exports it (JSON-text attributes still as JSON; bundle.encode makes text)."""
    return {
        "attributes": attributes,
        "coreMigrationVersion": CORE_MIGRATION_VERSION,
        "id": object_id,
        # Not managed: SREs may edit and save the objects in Kibana (a re-import overwrites them).
        "managed": False,
        "references": references,
        "type": object_type,
        "typeMigrationVersion": TYPE_MIGRATION_VERSIONS[object_type],
    }

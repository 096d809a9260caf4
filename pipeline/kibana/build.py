"""Write the per-object files from the definitions, then the NDJSON bundle from the files.

`python kibana/build.py` regenerates `kibana/objects/<type>/<id>.json` and `kibana/logtrace.ndjson`;
`--check` writes nothing and exits 1 when either differs from what the build would write (CI, tests).
"""

import sys
from pathlib import Path

from pipeline.kibana.bundle import (
    BUNDLE_FILE,
    OBJECTS_DIR,
    load_objects,
    object_file_text,
    object_path,
    to_ndjson,
)
from pipeline.kibana.objects import all_objects
from pipeline.kibana.refs import undeclared


def planned_files(objects_dir: Path = OBJECTS_DIR) -> dict[Path, str]:
    """Path -> content of every per-object file the definitions produce.

    Raises ValueError when an object uses a field mappings/fields.yml does not declare.
    """
    objects = all_objects()
    unknown = undeclared(objects)
    if unknown:
        listed = ", ".join(sorted({f"{use.field} ({use.object_id})" for use in unknown}))
        raise ValueError(f"saved objects use fields not declared in mappings/fields.yml: {listed}")
    return {object_path(obj, objects_dir): object_file_text(obj) for obj in objects}


def stale_files(objects_dir: Path = OBJECTS_DIR, bundle_file: Path = BUNDLE_FILE) -> list[Path]:
    """Files that differ from (or are missing from, or are not in) what a build would write."""
    planned = planned_files(objects_dir)
    existing = set(objects_dir.glob("*/*.json"))
    stale = sorted(path for path in existing - planned.keys())
    stale += [path for path, text in planned.items() if not path.is_file() or path.read_text("utf-8") != text]
    # Up-to-date files hold exactly these objects, so the bundle built from them is this text.
    if not bundle_file.is_file() or bundle_file.read_text("utf-8") != to_ndjson(all_objects()):
        stale.append(bundle_file)
    return stale


def build(objects_dir: Path = OBJECTS_DIR, bundle_file: Path = BUNDLE_FILE) -> None:
    """Regenerate the per-object files (dropping ones no definition produces), then the bundle from them."""
    planned = planned_files(objects_dir)
    for path in set(objects_dir.glob("*/*.json")) - planned.keys():
        path.unlink()
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
    bundle_file.write_text(to_ndjson(load_objects(objects_dir)), "utf-8")


def main(argv: list[str]) -> int:
    """`build.py [--check]`."""
    if argv == ["--check"]:
        stale = stale_files()
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        return 1 if stale else 0
    if argv:
        print("usage: python kibana/build.py [--check]", file=sys.stderr)
        return 2
    build()
    print(f"wrote {len(planned_files())} objects and {BUNDLE_FILE}")
    return 0

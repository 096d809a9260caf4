"""`logtrace` console script: imports each command module so it registers on the shared app."""

import importlib

from pipeline.cli._app import app

# One module per command family; each registers its commands on `app` when imported.
COMMAND_MODULES: tuple[str, ...] = (
    "pipeline.cli.dev",
    "pipeline.cli.parse",
    "pipeline.cli.setup",
    "pipeline.cli.dlq",
    "pipeline.cli.kibana",
    "pipeline.cli.trace",
    "pipeline.cli.worker",
    "pipeline.cli.demo",
    "pipeline.cli.bench",
)


def main() -> None:
    """Entry point of the `logtrace` console script."""
    for name in COMMAND_MODULES:
        importlib.import_module(name)
    app()


__all__ = ["app", "main"]

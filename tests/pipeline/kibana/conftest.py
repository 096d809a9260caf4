"""A fresh fake Kibana (kibana_fake.py) per test, and no LOGTRACE_KIBANA_* from the environment."""

from collections.abc import Iterator

import pytest
from kibana_fake import FakeKibana, Server


@pytest.fixture
def kibana(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKibana]:
    for name in ("URL", "SPACE", "API_KEY", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"LOGTRACE_KIBANA_{name}", raising=False)
    with Server(FakeKibana()) as fake:
        yield fake

"""Fixtures of the OTLP parser tests: SDK-made requests (built once per module) and a parse context."""

import time

import pytest
from otlp_testkit import SdkLogs, SdkTraces, sdk_logs, sdk_traces

from parsers.context import ParseContext


@pytest.fixture(scope="module")
def traces() -> SdkTraces:
    return sdk_traces()


@pytest.fixture(scope="module")
def logs() -> SdkLogs:
    return sdk_logs()


@pytest.fixture
def ctx() -> ParseContext:
    # Live clock: SDK-made spans carry the current time, which must read as plausible.
    return ParseContext(received_ns=time.time_ns())

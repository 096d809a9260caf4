"""`logtrace kibana import` against a local server that answers like Kibana's import API and records it."""

import base64
import json

import pytest
from kibana_fake import IMPORT_PATH, FakeKibana
from typer.testing import CliRunner

import pipeline.cli.kibana  # registers `kibana import` on the app
from pipeline.cli._app import app
from pipeline.kibana import importer
from pipeline.kibana.bundle import BUNDLE_FILE, from_ndjson
from pipeline.kibana.importer import KibanaImportError, post_bundle, report
from pipeline.kibana.settings import KibanaSettings

pytestmark = pytest.mark.timeout(15)
BUNDLE = BUNDLE_FILE.read_bytes()
OBJECTS = from_ndjson(BUNDLE.decode())
API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["kibana", "import", *args], env=env)


def test_the_request_is_a_multipart_post_with_overwrite_and_kbn_xsrf(kibana: FakeKibana) -> None:
    kibana.authorization = f"ApiKey {API_KEY}"
    result = run("--kibana-url", kibana.url, "--api-key", API_KEY)
    assert result.exit_code == 0, result.output
    (request,) = kibana.requests
    assert request.method == "POST"
    assert request.path == IMPORT_PATH
    assert request.query == {"overwrite": ["true"]}
    assert request.headers["kbn-xsrf"] == "true"
    assert request.headers["authorization"] == f"ApiKey {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    (part,) = request.parts
    assert part["name"] == "file"
    assert part["filename"] == "logtrace.ndjson"
    assert part["content_type"] == "application/ndjson"
    assert part["content"] == BUNDLE


def test_every_object_is_reported_and_the_run_succeeds(kibana: FakeKibana) -> None:
    result = run("--kibana-url", kibana.url)
    assert result.exit_code == 0, result.output
    assert len(kibana.objects()) == len(OBJECTS)
    for obj in OBJECTS:
        assert f"✓ {obj['type']:<13} {obj['id']}" in result.output
    assert f"imported {len(OBJECTS)} objects" in result.output


def test_importing_again_overwrites_the_same_objects(kibana: FakeKibana) -> None:
    assert run("--kibana-url", kibana.url).exit_code == 0
    first = dict(kibana.objects())
    second = report(post_bundle(KibanaSettings(url=kibana.url), BUNDLE), OBJECTS)
    assert second.success and not second.failed
    assert kibana.objects() == first
    assert len(kibana.requests) == 2


def test_a_space_goes_into_the_path_and_a_user_into_basic_auth(kibana: FakeKibana) -> None:
    kibana.authorization = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    result = run("--kibana-url", kibana.url, "--space", "ops", "--user", "elastic",
                 env={"LOGTRACE_KIBANA_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert kibana.requests[0].path == f"/s/ops{IMPORT_PATH}"
    assert set(kibana.objects("ops")) and not kibana.objects("default")


def test_settings_come_from_the_environment(kibana: FakeKibana) -> None:
    kibana.authorization = f"ApiKey {API_KEY}"
    result = run(env={"LOGTRACE_KIBANA_URL": kibana.url, "LOGTRACE_KIBANA_API_KEY": API_KEY,
                      "LOGTRACE_KIBANA_SPACE": "sre"})
    assert result.exit_code == 0, result.output
    assert kibana.requests[0].path == f"/s/sre{IMPORT_PATH}"


def test_per_object_errors_are_reported_and_the_exit_code_is_one(kibana: FakeKibana) -> None:
    kibana.forced_errors[("lens", "logtrace-lens-ingest-lag")] = {
        "type": "unknown", "message": "Unable to migrate lens", "statusCode": 400}
    kibana.forced_errors[("dashboard", "logtrace-dashboard-errors")] = {
        "type": "missing_references", "references": [{"type": "lens", "id": "logtrace-lens-gone"}]}
    result = run("--kibana-url", kibana.url)
    assert result.exit_code == 1
    assert "✗ lens          logtrace-lens-ingest-lag" in result.output
    assert "unknown (HTTP 400): Unable to migrate lens" in result.output
    assert "missing references: lens:logtrace-lens-gone" in result.output
    total = len(BUNDLE_FILE.read_bytes().splitlines())
    assert f"2 of {total} objects were not imported" in result.output
    assert "✓ index-pattern logtrace-logs" in result.output


def test_kibanas_error_kinds_read_as_sentences() -> None:
    answer = {
        "success": False, "successCount": 0, "successResults": [],
        "errors": [
            {"id": "a", "type": "search", "error": {"type": "conflict", "destinationId": "b"}},
            {"id": "a", "type": "search", "error": {"type": "missing_references",
                                                     "references": [{"type": "index-pattern", "id": "x"}]}},
            {"id": "c", "type": "canvas-workpad", "error": {"type": "unsupported_type"}},
            {"id": "d", "type": "lens", "error": {"type": "ambiguous_conflict",
                                                   "destinations": [{"id": "e"}, {"id": "f"}]}},
        ],
    }
    objects = [{"type": t, "id": i, "attributes": {"title": i}} for t, i in
               (("search", "a"), ("canvas-workpad", "c"), ("lens", "d"), ("dashboard", "z"))]
    outcome = report(answer, objects)
    assert not outcome.success
    assert [result.error for result in outcome.results] == [
        "conflict with an existing object b; missing references: index-pattern:x",
        "unsupported type (this Kibana does not know it)",
        "ambiguous conflict with e, f",
        "not in Kibana's answer",
    ]


def test_a_refused_request_fails_with_kibanas_message(kibana: FakeKibana) -> None:
    kibana.authorization = f"ApiKey {API_KEY}"
    result = run("--kibana-url", kibana.url)
    assert result.exit_code == 1
    assert "HTTP 401 Unauthorized: [security_exception]: missing authentication credentials" in result.output


def test_an_unreachable_kibana_fails_clearly() -> None:
    with pytest.raises(KibanaImportError, match=r"cannot reach Kibana at http://127\.0\.0\.1:9"):
        post_bundle(KibanaSettings(url="http://127.0.0.1:9", request_timeout_s=2), BUNDLE)


def test_wait_retries_while_kibana_is_starting(kibana: FakeKibana, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_RETRY_PAUSE_S", 0.01)
    kibana.unavailable = 2
    with pytest.raises(KibanaImportError, match="HTTP 503: Kibana server is not ready yet"):
        post_bundle(KibanaSettings(url=kibana.url), BUNDLE)
    kibana.unavailable = 2
    answer = post_bundle(KibanaSettings(url=kibana.url), BUNDLE, wait_s=5)
    assert answer["success"] is True
    assert len(kibana.requests) == 4


def test_a_user_without_a_password_and_no_terminal_is_a_usage_error(kibana: FakeKibana) -> None:
    result = run("--kibana-url", kibana.url, "--user", "elastic")
    assert result.exit_code == 2
    assert "needs a password" in result.output
    assert kibana.requests == []


def test_credentials_in_the_url_are_refused(kibana: FakeKibana) -> None:
    result = run("--kibana-url", "http://elastic:pw@127.0.0.1:5601")
    assert result.exit_code == 2
    assert "must not contain credentials" in result.output
    assert "pw@" not in result.output


def test_the_bundle_file_can_be_chosen(kibana: FakeKibana, tmp_path) -> None:
    one = tmp_path / "one.ndjson"
    one.write_text(json.dumps(OBJECTS[0]) + "\n")
    result = run("--kibana-url", kibana.url, "--file", str(one))
    assert result.exit_code == 0, result.output
    assert kibana.requests[0].parts[0]["content"] == one.read_bytes()
    assert kibana.requests[0].parts[0]["filename"] == "logtrace.ndjson"


def test_a_file_that_is_not_ndjson_is_a_usage_error(kibana: FakeKibana, tmp_path) -> None:
    broken = tmp_path / "broken.ndjson"
    broken.write_text("{not json\n")
    result = run("--kibana-url", kibana.url, "--file", str(broken))
    assert result.exit_code == 2
    assert "cannot read the bundle" in result.output
    assert kibana.requests == []


def test_without_the_source_tree_the_bundle_is_found_in_the_working_directory(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In the container the package is installed in site-packages and the bundle sits in /app/kibana.
    installed = tmp_path / "site-packages" / "kibana" / "logtrace.ndjson"
    monkeypatch.setattr(pipeline.cli.kibana, "BUNDLE_FILE", installed)
    (tmp_path / "kibana").mkdir()
    (tmp_path / "kibana" / "logtrace.ndjson").write_bytes(BUNDLE)
    monkeypatch.chdir(tmp_path)
    assert pipeline.cli.kibana.default_bundle() == tmp_path / "kibana" / "logtrace.ndjson"

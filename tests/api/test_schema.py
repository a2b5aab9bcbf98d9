"""Property-based requests from the OpenAPI schema (schemathesis): no input makes the API answer 500,
and every refusal is problem+json with a code."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from realvoice import RealVoiceCloningService, Settings  # noqa: E402
from realvoice.api import create_app  # noqa: E402
from realvoice.api.config import ApiSettings  # noqa: E402
from realvoice.api.errors import OPENAI_PATHS  # noqa: E402
from realvoice.store.users import create_key  # noqa: E402

# Built at import: schemathesis parametrizes from the schema at collection (its fixture loader does not
# work with this pytest). Small upload limits keep generated bodies cheap; no rate or job limits hide a 500.
_HOME = tempfile.mkdtemp(prefix="realvoice-schema-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
_SERVICE = RealVoiceCloningService(settings=Settings(home=Path(_HOME), max_upload_bytes=64 * 1024))
_APP = create_app(_SERVICE, settings=ApiSettings(requests_per_minute=10**9, jobs_per_user=10**6))
KEY = {"header": f"Bearer {create_key(_SERVICE.db, 'fuzz')}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.parametrize()
# derandomized: the same 25 cases every run, so a CI run cannot fail on a draw an earlier run missed
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_a_server_error(case):
    if case.path.startswith("/v1/"):
        case.headers = {**(case.headers or {}), "Authorization": KEY["header"]}
    response = case.call()
    case.validate_response(response, checks=(not_a_server_error,))
    if response.status_code >= 400 and case.path.startswith(OPENAI_PATHS):
        assert response.json()["error"]["code"], response.text  # the shape OpenAI's clients parse
    elif response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        assert content_type[0].startswith("application/problem+json"), (response.status_code, response.text)
        assert response.json()["code"]

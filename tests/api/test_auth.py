"""Signing in with a key, the rate limit, health, the schema, the page, and the shape of every error."""

from __future__ import annotations

from realvoice.store.users import create_key, hash_key, list_keys, revoke_keys, user_for_key

from .conftest import assert_problem, make_client


def test_health_needs_no_key(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["engine"]


def test_the_api_reference_is_served_from_the_package(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text.split("</head>")[0]
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:200_000]
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "/docs/assets/redoc.standalone.js" in redoc.text
    assert "https://" not in redoc.text.split("</head>")[0]


def test_every_v1_route_needs_a_key(client):
    for method, url in [
        ("GET", "/v1/me"),
        ("GET", "/v1/voices"),
        ("GET", "/v1/voices/" + "0" * 32),
        ("DELETE", "/v1/voices/" + "0" * 32),
        ("GET", "/v1/voices/" + "0" * 32 + "/preview"),
        ("POST", "/v1/voices/" + "0" * 32 + "/speech"),
        ("POST", "/v1/voices"),
        ("GET", "/v1/jobs/" + "0" * 32),
        ("GET", "/v1/jobs/" + "0" * 32 + "/events"),
        ("POST", "/v1/samples/check"),
    ]:
        r = client.request(method, url)
        assert_problem(r, 401, "no_api_key")
        assert r.headers["www-authenticate"] == "Bearer"


def test_me_names_the_user_of_the_key(client, service):
    for name in ("api-me-ann", "api-me-bo"):
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {create_key(service.db, name)}"})
        assert r.status_code == 200 and r.json() == {"user": name}


def test_a_wrong_or_revoked_key_is_refused(client, service):
    assert_problem(client.get("/v1/voices", headers={"Authorization": "Bearer rv_nope"}), 401, "bad_api_key")
    key = create_key(service.db, "api-revoked")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/voices", headers=headers).status_code == 200
    assert revoke_keys(service.db, "api-revoked") == 1
    assert_problem(client.get("/v1/voices", headers=headers), 401, "bad_api_key")


def test_keys_are_stored_only_as_hashes(service):
    key = create_key(service.db, "api-hashed")
    assert key.startswith("rv_") and len(key) > 40
    assert user_for_key(service.db, key) == "api-hashed" and user_for_key(service.db, key + "x") is None
    with service.db.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_keys"))
    assert key not in dump and hash_key(key) in dump
    (info,) = list_keys(service.db, "api-hashed")
    assert info.hint == key[:10] and not info.revoked


def test_a_new_user_has_no_voices(client, users):
    r = client.get("/v1/voices", headers=users["alice"])
    assert r.status_code == 200 and r.json() == []


def test_requests_per_minute_per_key(service):
    alice = {"Authorization": f"Bearer {create_key(service.db, 'api-rate-a')}"}
    bob = {"Authorization": f"Bearer {create_key(service.db, 'api-rate-b')}"}
    with make_client(service, requests_per_minute=3) as c:
        assert [c.get("/v1/voices", headers=alice).status_code for _ in range(3)] == [200] * 3
        r = c.get("/v1/voices", headers=alice)
        assert_problem(r, 429, "rate_limited")
        # the sliding window is estimated from two fixed ones (so every process can share it), and a
        # burst early in a window still weighs on the next one: the wait can pass one window, never two
        assert 1 <= int(r.headers["retry-after"]) <= 120
        assert c.get("/v1/voices", headers=bob).status_code == 200  # another key has its own budget
        assert c.get("/healthz").status_code == 200  # health is not rate limited


def test_openapi_schema_and_docs(client):
    schema = client.get("/openapi.json").json()
    paths = {"/v1/voices", "/v1/jobs/{job_id}/events", "/v1/samples/check", "/healthz", "/v1/consent/statements"}
    assert paths | {"/v1/detect"} <= set(schema["paths"])
    upload = schema["paths"]["/v1/voices"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"name", "files"} <= set(upload["required"])
    assert {"consent_recording", "consent_challenge", "consent"} <= set(upload["properties"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_unknown_paths_and_methods_are_problems(client, users):
    assert_problem(client.get("/v1/nothing", headers=users["alice"]), 404, "not_found")
    assert_problem(client.put("/v1/voices", headers=users["alice"]), 405, "method_not_allowed")


def test_the_page_is_served_at_root(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower() and "app.js" in r.text
    assert client.get("/app.js").status_code == 200 and client.get("/style.css").status_code == 200


def test_the_page_states_the_one_recording_rule(client):
    """The page, the errors and the tips give one rule for sample length (recording_rule)."""
    from realvoice.samples.rule import recording_rule

    assert recording_rule(client.app.state.api.service.settings) in client.get("/").text


def test_guessing_keys_is_limited_per_client_address(service):
    """Wrong and missing keys count against the address they come from; past the limit, even a good
    key from there waits (or the right guess would be told apart from the wrong ones)."""
    good = {"Authorization": f"Bearer {create_key(service.db, 'api-guess')}"}
    with make_client(service, bad_keys_per_minute=3) as c:
        wrong = [c.get("/v1/voices", headers={"Authorization": f"Bearer rv_guess{i}"}) for i in range(2)]
        assert [r.status_code for r in wrong] + [c.get("/v1/voices").status_code] == [401, 401, 401]
        r = c.get("/v1/voices", headers={"Authorization": "Bearer rv_guess9"})
        body = assert_problem(r, 429, "rate_limited")
        # a sliding window: the wait can reach into the window after next
        assert "without a valid key" in body["detail"] and 1 <= int(r.headers["retry-after"]) <= 120
        assert_problem(c.get("/v1/voices", headers=good), 429, "rate_limited")
    with make_client(service, bad_keys_per_minute=3) as c:  # good keys alone never count
        assert {c.get("/v1/voices", headers=good).status_code for _ in range(5)} == {200}

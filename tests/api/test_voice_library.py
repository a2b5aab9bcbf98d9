"""The voice library over REST: each voice with how it sounds, renaming it and describing it.

On one voice built without a fit (``stock_voice``), so the module is quick."""

from __future__ import annotations

import pytest

from realvoice.store.users import create_key

from .conftest import assert_problem

MISSING = "0" * 32


@pytest.fixture(scope="module")
def rita(service) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(service.db, 'rita')}"}


@pytest.fixture(scope="module")
def mallory(service) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(service.db, 'mallory')}"}


def test_the_list_says_how_each_voice_sounds(client, rita, stock_voice):
    (summary,) = [v for v in client.get("/v1/voices", headers=rita).json() if v["voice_id"] == stock_voice.voice_id]
    detail = client.get(f"/v1/voices/{stock_voice.voice_id}", headers=rita).json()
    assert summary["characteristics"] == detail["characteristics"]
    assert summary["characteristics"] == stock_voice.characteristics.model_dump(mode="json")
    assert summary["characteristics"]["gender"] == "male" and summary["characteristics"]["pitch_hz"] > 60


def test_rename_and_describe_a_voice(client, rita, stock_voice):
    url = f"/v1/voices/{stock_voice.voice_id}"
    try:
        r = client.patch(url, json={"name": "  Rita, warm  "}, headers=rita)
        assert r.status_code == 200 and r.json()["name"] == "Rita, warm"
        assert r.json()["description"] == "a quick voice"  # left out, left as it was
        r = client.patch(url, json={"description": "For the intros."}, headers=rita)
        assert r.json()["name"] == "Rita, warm" and r.json()["description"] == "For the intros."
        listed = {v["voice_id"]: v for v in client.get("/v1/voices", headers=rita).json()}
        assert listed[stock_voice.voice_id]["name"] == "Rita, warm"
        assert listed[stock_voice.voice_id]["description"] == "For the intros."
    finally:
        client.patch(url, json={"name": "Rita", "description": "a quick voice"}, headers=rita)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"name": "   "}, "bad_voice_name"),
        ({"name": ""}, "validation_error"),
        ({"name": "x" * 101}, "validation_error"),
        ({"description": "x" * 2001}, "validation_error"),
        ({"nmae": "typo"}, "validation_error"),
    ],
)
def test_a_bad_name_or_description_is_refused_and_nothing_changes(client, rita, stock_voice, body, code):
    url = f"/v1/voices/{stock_voice.voice_id}"
    assert_problem(client.patch(url, json=body, headers=rita), 422, code)
    assert client.get(url, headers=rita).json()["name"] == "Rita"


def test_another_users_voice_cannot_be_renamed_and_reads_as_missing(client, rita, mallory, stock_voice):
    theirs = client.patch(f"/v1/voices/{stock_voice.voice_id}", json={"name": "Mine now"}, headers=mallory)
    unknown = client.patch(f"/v1/voices/{MISSING}", json={"name": "Mine now"}, headers=mallory)
    assert_problem(theirs, 404, "voice_not_found")
    assert_problem(unknown, 404, "voice_not_found")
    assert theirs.json()["detail"].replace(stock_voice.voice_id, "X") == unknown.json()["detail"].replace(MISSING, "X")
    assert client.get(f"/v1/voices/{stock_voice.voice_id}", headers=rita).json()["name"] == "Rita"


def test_renaming_needs_a_key(client, stock_voice):
    assert_problem(client.patch(f"/v1/voices/{stock_voice.voice_id}", json={"name": "x"}), 401, "no_api_key")

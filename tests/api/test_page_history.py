"""The page's speech history in Chromium: what the playground speaks is kept, listed with how it was made,
and can be played again, downloaded under a telling name, made anew and deleted, by mouse or keyboard.

A server of its own whose voice is built without a fit (nearest-stock): the page flow, quickly."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from realvoice.store.users import create_key

from .browser import HAVE_CHROMIUM, serve, shot, signed_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is absent (apt-get install chromium)"),
]
TEXT = "Hello from the history page. It keeps what you said."


@pytest.fixture(scope="module")
def quick(tmp_path_factory, piper_samples) -> Iterator[tuple[str, str, object]]:
    from realvoice import RealVoiceCloningService, Settings

    svc = RealVoiceCloningService(settings=Settings(home=tmp_path_factory.mktemp("history"), fit_mode="nearest-stock"))
    key = create_key(svc.db, "history-user")
    built = svc.create_voice("history-user", "History voice", piper_samples, allow_duplicate=True)
    assert built.success, built.errors
    for url in serve(svc):
        yield url, key, svc
    svc.close()


@pytest.fixture(scope="module")
def page(quick):
    url, key, _ = quick
    with signed_in(url, key, accept_downloads=True) as page:
        yield page


def history_of(quick) -> list[dict]:
    url, key, _ = quick
    return httpx.get(f"{url}/v1/speech", headers={"Authorization": f"Bearer {key}"}).json()


def test_an_empty_history_says_what_it_will_hold(page):
    sync_api.expect(page.locator("#history-status")).to_contain_text("Nothing spoken yet")
    assert page.locator("#history li").count() == 0


def test_what_the_playground_speaks_is_kept_and_named(page, quick, tmp_path):
    page.get_by_label("Text", exact=True).fill(TEXT)
    page.get_by_label("File format").select_option("mp3")
    page.get_by_label("Pauses").fill("0.5")
    page.get_by_label("Chorus").check()
    with page.expect_request(lambda r: r.url.endswith("/speech/jobs") and r.method == "POST") as sent:
        page.get_by_role("button", name="Speak").click()
    asked = json.loads(sent.value.post_data or "{}")
    assert asked["format"] == "mp3" and asked["pause_scale"] == 0.5 and asked["effects"] == ["chorus"]
    download = page.locator("#speak-download")
    sync_api.expect(download).to_be_visible(timeout=180_000)
    sync_api.expect(page.locator("#speak-status")).to_contain_text("kept in your history")
    (item,) = history_of(quick)
    assert item["request"]["text"] == TEXT and item["request"]["pause_scale"] == 0.5
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == item["file_name"] == "History voice - hello-from-the-history-page-it.mp3"
    row = page.locator(f'#history li[data-job="{item["job_id"]}"]')
    sync_api.expect(row).to_have_class("done")
    sync_api.expect(row.locator("strong")).to_have_text("History voice")
    sync_api.expect(row.locator(".said")).to_have_text(TEXT)
    facts = row.locator(".meta").inner_text()
    assert f"{item['duration_s']:.1f} s, MP3" in facts and "pauses 0.5× shorter" in facts and "chorus" in facts
    shot(page, "history-1-kept")


def test_play_again_and_download_from_the_history(page, quick, tmp_path):
    (item,) = history_of(quick)
    row = page.locator(f'#history li[data-job="{item["job_id"]}"]')
    row.locator("button.play").click()
    page.wait_for_function(f"state.heard === {item['job_id']!r} && heardPlayer.src.startsWith('blob:')")
    assert page.evaluate("heardPlayer.duration") == pytest.approx(item["duration_s"], abs=0.3)
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == item["file_name"] and saved.stat().st_size > 5_000


def test_make_again_with_the_same_request_by_keyboard(page, quick):
    (first,) = history_of(quick)
    row = page.locator(f'#history li[data-job="{first["job_id"]}"]')
    row.locator("button.play").focus()
    for name in ("download", "again"):  # one Tab stop per button, in reading order
        page.keyboard.press("Tab")
        sync_api.expect(row.locator(f'button[data-act="{name}"]')).to_be_focused()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#history li")).to_have_count(2)
    sync_api.expect(page.locator("#history li.done")).to_have_count(2, timeout=180_000)
    # the list reloaded while the render was made, and the focus stayed on the button pressed
    sync_api.expect(row.locator('button[data-act="again"]')).to_be_focused()
    newest, older = history_of(quick)
    assert older["job_id"] == first["job_id"] and newest["request"] == first["request"]
    assert newest["duration_s"] == pytest.approx(first["duration_s"], rel=0.15)
    assert page.locator("#history li").first.get_attribute("data-job") == newest["job_id"]
    shot(page, "history-2-made-again")


def test_delete_a_render_and_its_file(page, quick):
    _, _, svc = quick
    newest, older = history_of(quick)
    page.locator(f'#history li[data-job="{older["job_id"]}"]').get_by_role("button", name="Delete").click()
    sync_api.expect(page.locator("#history li")).to_have_count(1)
    sync_api.expect(page.locator("#history-status")).to_have_text("Deleted. 1 render(s) left.")
    sync_api.expect(page.locator("#history-h")).to_be_focused()
    assert [i["job_id"] for i in history_of(quick)] == [newest["job_id"]]
    assert not (svc.settings.renders_dir / older["job_id"]).exists()


def test_the_history_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#history-section").scroll_into_view_if_needed()
    row = page.locator("#history li").first
    for name in ("play", "download", "again", "delete"):
        box = row.locator(f'button[data-act="{name}"]').bounding_box()
        assert box and box["height"] >= 24 and box["x"] + box["width"] <= 390  # reachable, on screen
    shot(page, "history-3-phone")

"""The page's report and voice library in Chromium: plain words for the result, the score's parts as the
API explains them, how each voice sounds, renaming a voice.

A server of its own that builds without a fit (nearest-stock): the whole page flow, quickly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from realvoice.models import SCORE_PARTS
from realvoice.store.users import create_key

from .browser import HAVE_CHROMIUM, serve, shot, signed_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is absent (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> Iterator[tuple[str, str]]:
    from realvoice import RealVoiceCloningService, Settings

    svc = RealVoiceCloningService(settings=Settings(home=tmp_path_factory.mktemp("library"), fit_mode="nearest-stock"))
    key = create_key(svc.db, "library-user")
    for url in serve(svc):
        yield url, key
    svc.close()


@pytest.fixture(scope="module")
def page(quick):
    url, key = quick
    with signed_in(url, key) as page:
        yield page


def voices_of(quick) -> list[dict]:
    url, key = quick
    return httpx.get(f"{url}/v1/voices", headers={"Authorization": f"Bearer {key}"}).json()


def test_the_header_names_the_user(page):
    sync_api.expect(page.locator("#whoami-text")).to_have_text("Signed in as library-user")


def test_the_result_speaks_of_likeness_and_explains_the_score(page, piper_samples):
    page.locator("#upload").set_input_files([str(p) for p in piper_samples])
    sync_api.expect(page.locator("#samples li.accepted")).to_have_count(len(piper_samples), timeout=120_000)
    page.get_by_label("I am the person speaking").check()
    page.get_by_label("Voice name").fill("Library voice")
    page.get_by_role("button", name="Create voice").click()
    result = page.locator("#result")
    sync_api.expect(result).to_be_visible(timeout=600_000)
    facts = result.locator("dl").inner_text()  # the table of facts about the voice: plain words only
    assert "nearest-stock" not in facts and "kokoro" not in facts.lower() and "Method" not in facts
    likeness = result.locator("dt", has_text="Likeness").locator("xpath=following-sibling::dd[1]")
    sync_api.expect(likeness).to_have_text("Not like you: a stock voice, the closest one to yours")
    parts = result.locator("ul.score-parts li")
    sync_api.expect(parts).to_have_count(len(SCORE_PARTS))
    for i, (key, meaning) in enumerate(SCORE_PARTS.items()):
        assert parts.nth(i).get_attribute("data-part") == key
        assert parts.nth(i).inner_text().endswith(f"/100 — {meaning}")
    shot(page, "library-1-result")


def test_each_voice_says_how_it_sounds(page, quick):
    (voice,) = voices_of(quick)
    c = voice["characteristics"]
    assert c["gender"] == "male"
    item = page.locator(f'#voices li[data-voice="{voice["voice_id"]}"]')
    sync_api.expect(item.locator(".traits")).to_contain_text(f"Sounds male, {c['age_band']}, {c['pitch_hz']:.0f} Hz")


def test_rename_and_describe_a_voice_from_the_page(page, quick):
    (voice,) = voices_of(quick)
    item = page.locator(f'#voices li[data-voice="{voice["voice_id"]}"]')
    item.get_by_role("button", name="Edit").click()
    name = item.get_by_label("Name", exact=True)
    sync_api.expect(name).to_be_focused()
    name.fill("Renamed voice")
    item.get_by_label("Description", exact=True).fill("For the intros.")
    item.get_by_role("button", name="Save").click()
    sync_api.expect(page.locator("#voices-status")).to_have_text("Saved “Renamed voice”.")
    item = page.locator(f'#voices li[data-voice="{voice["voice_id"]}"]')
    sync_api.expect(item.locator("strong")).to_have_text("Renamed voice")
    sync_api.expect(item.locator(".description")).to_have_text("For the intros.")
    sync_api.expect(item.locator("button.edit")).to_be_focused()
    assert page.locator("#speak-voice option").all_inner_texts() == ["Renamed voice"]
    (stored,) = voices_of(quick)
    assert (stored["name"], stored["description"]) == ("Renamed voice", "For the intros.")
    shot(page, "library-2-renamed")


def test_an_empty_name_is_refused_in_words(page, quick):
    (voice,) = voices_of(quick)
    item = page.locator(f'#voices li[data-voice="{voice["voice_id"]}"]')
    item.get_by_role("button", name="Edit").click()
    item.get_by_label("Name", exact=True).fill("   ")
    item.get_by_role("button", name="Save").click()
    sync_api.expect(page.locator("#voices-status")).to_contain_text("the voice name must be 1-100 characters")
    assert page.locator("#voices-status").get_attribute("class") == "status error"
    assert voices_of(quick)[0]["name"] == "Renamed voice"


def test_a_preview_is_one_button_that_plays_and_pauses(page, quick):
    """One Tab stop per voice for its preview (a native player costs six), driving one shared player."""
    (voice,) = voices_of(quick)
    item = page.locator(f'#voices li[data-voice="{voice["voice_id"]}"]')
    button = item.locator("button.preview")
    button.click()
    page.wait_for_function(f"state.previewing === {voice['voice_id']!r} && !previewPlayer.paused", timeout=120_000)
    sync_api.expect(button).to_have_text("⏸ Pause preview")
    assert page.evaluate("previewPlayer.duration") > 1.0
    assert item.locator("audio").count() == 0
    sync_api.expect(button).to_be_focused()
    page.keyboard.press("Enter")  # the same button pauses it
    sync_api.expect(button).to_have_text("▶ Preview")
    assert page.evaluate("previewPlayer.paused")
    page.keyboard.press("Tab")
    sync_api.expect(item.get_by_role("button", name="Use in playground")).to_be_focused()

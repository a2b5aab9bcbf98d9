"""The web page in a real browser (Debian's Chromium via Playwright): sign in, record, upload, build, speak, delete.

Skips where Playwright or ``/usr/bin/chromium`` is absent (``apt-get install chromium``, ``pip install playwright``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from realvoice.store.users import create_key

from .browser import HAVE_CHROMIUM, launch, serve, shot

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is absent (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def base_url(service) -> Iterator[str]:
    yield from serve(service)


@pytest.fixture(scope="module")
def page(base_url):
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(accept_downloads=True)
        context.grant_permissions(["microphone"], origin=base_url)
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()


@pytest.fixture(scope="module")
def key(service) -> str:
    return create_key(service.db, "page-user")


def test_a_wrong_key_is_refused(page, base_url):
    page.goto(base_url + "/")
    page.get_by_label("API key").fill("rv_wrong")
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#signin-status")).to_contain_text("not valid")
    assert page.locator("#app").is_hidden()


def test_sign_in_and_see_no_voices(page, key):
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#app")).to_be_visible()
    sync_api.expect(page.locator("#voices-status")).to_contain_text("No voices yet")


def test_record_in_the_browser_and_get_a_verdict(page):
    sync_api.expect(page.locator("#prompt")).not_to_be_empty()
    page.get_by_role("button", name="Start recording").click()
    page.wait_for_timeout(2500)
    page.get_by_role("button", name="Stop recording").click()
    item = page.locator("#samples li").first
    sync_api.expect(item.locator(".verdict")).not_to_have_text("Checking…", timeout=60_000)
    assert "recording-1." in item.inner_text()
    # the fake microphone plays a beep, not speech: it must be rejected, with a reason
    sync_api.expect(item.locator(".verdict")).to_have_text("Rejected")
    assert item.locator(".reasons li").count() >= 1
    shot(page, "1-recording-rejected")
    item.get_by_role("button", name="Remove").click()
    sync_api.expect(page.locator("#samples li")).to_have_count(0)


def test_upload_build_speak_and_delete(page, piper_samples, tmp_path):
    page.locator("#upload").set_input_files([str(p) for p in piper_samples])
    sync_api.expect(page.locator("#samples li.accepted")).to_have_count(len(piper_samples), timeout=120_000)
    create = page.get_by_role("button", name="Create voice")
    shot(page, "2-samples-accepted")
    assert create.is_disabled()  # consent first
    page.get_by_label("I am the person speaking").check()
    page.get_by_label("Voice name").fill("Page voice")
    create.click()
    sync_api.expect(page.locator("#result")).to_be_visible(timeout=600_000)
    sync_api.expect(page.locator("#result .score")).to_contain_text("/100")
    assert "male" in page.locator("#result dl").inner_text()
    sync_api.expect(page.locator("#result img.report")).to_be_visible()
    assert page.locator("#result img.report").evaluate("img => img.naturalWidth") > 100
    assert page.locator("#progress").evaluate("e => e.value") == 100
    shot(page, "3-voice-created")
    voices = page.locator("#voices li")
    sync_api.expect(voices).to_have_count(1)
    assert "Page voice" in voices.first.inner_text()

    voices.first.get_by_role("button", name="▶ Preview").click()
    page.wait_for_function("previewPlayer.src.startsWith('blob:')", timeout=120_000)  # the page's one player

    page.get_by_label("Text", exact=True).fill("Hello from the playground.")
    page.get_by_label("File format").select_option("mp3")
    page.get_by_label("Reverb").check()
    page.get_by_label("Pitch").fill("2")  # a range input: fill sets its value
    page.get_by_label("Sound").select_option("podcast")
    page.get_by_label("Background music").select_option("lofi")
    with page.expect_request(lambda r: "/speech" in r.url and r.method == "POST") as sent:
        page.get_by_role("button", name="Speak").click()
    body = json.loads(sent.value.post_data or "{}")
    assert body["effects"] == ["podcast", "reverb"] and body["background_music"] == "lofi"
    assert body["pitch_semitones"] == 2
    download = page.locator("#speak-download")
    sync_api.expect(download).to_be_visible(timeout=120_000)
    sync_api.expect(page.locator("#speak-status")).to_contain_text("s of audio")
    assert page.locator("#speak-progress").evaluate("e => e.value") == 100  # the stream was read to its end
    assert page.locator("#speak-audio").evaluate("a => a.src").startswith("blob:")
    shot(page, "4-playground")
    with page.expect_download() as info:
        download.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".mp3" and saved.stat().st_size > 5_000
    assert saved.name == "Page voice - hello-from-the-playground.mp3"

    page.once("dialog", lambda d: d.accept())
    voices.first.get_by_role("button", name="Delete").click()
    sync_api.expect(page.locator("#voices li")).to_have_count(0)
    sync_api.expect(page.locator("#voices-status")).to_contain_text("Deleted Page voice")


def test_the_api_reference_renders_with_no_outside_requests(page, base_url):
    """/docs comes entirely from this server: every request elsewhere is blocked and counted."""
    outside = []

    def only_ours(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    try:
        page.goto(base_url + "/docs")
        sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text("realvoice", timeout=30_000)
        sync_api.expect(page.locator(".opblock-summary-path", has_text="/v1/voices").first).to_be_visible()
        shot(page, "5-api-reference")
    finally:
        page.unroute("**/*")
    assert outside == []


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A server that requires the speaker's consent recording, as ``realvoice serve`` does (no fit: fast)."""
    from realvoice import RealVoiceCloningService, Settings

    home = tmp_path_factory.mktemp("strict-page")
    strict = RealVoiceCloningService(
        settings=Settings(home=home, fit_mode="nearest-stock", require_consent_recording=True)
    )
    key = create_key(strict.db, "strict-page-user")
    for url in serve(strict):
        yield url, key
    strict.close()


def test_a_voice_with_the_speakers_recorded_consent(page, strict, piper_samples, tmp_path):
    """The statement with its code, the speaker's reading uploaded, the voice built and its consent shown."""
    from realvoice.demo import make_piper_samples

    url, key = strict
    page.goto(url + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#app")).to_be_visible()
    assert page.locator("#attest").is_hidden()  # this server takes no one's word for it
    page.locator("#upload").set_input_files([str(p) for p in piper_samples])
    sync_api.expect(page.locator("#samples li.accepted")).to_have_count(len(piper_samples), timeout=120_000)
    create = page.get_by_role("button", name="Create voice")
    assert create.is_disabled()  # no consent recording yet
    page.get_by_label("The speaker's name").fill("Joe Miller")
    page.get_by_role("button", name="Show the statement").click()
    statement = page.locator("#statement")
    sync_api.expect(statement).to_contain_text("I, Joe Miller, agree")
    reading = make_piper_samples(tmp_path, [statement.inner_text().strip()])[0]
    page.locator("#consent-file").set_input_files(str(reading))
    sync_api.expect(create).to_be_enabled()
    shot(page, "6-consent-statement")
    create.click()
    sync_api.expect(page.locator("#result")).to_be_visible(timeout=600_000)
    sync_api.expect(page.locator("#result dl")).to_contain_text("recorded and checked")
    sync_api.expect(page.locator("#consent-status")).to_contain_text("new statement")
    shot(page, "7-consent-voice")

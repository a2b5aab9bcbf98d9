"""The page for a person on a phone or on a keyboard: focus, target sizes, the focus ring, the favicon.

Skips where Playwright or ``/usr/bin/chromium`` is absent. No voice is built here: the tests are quick.
"""

from __future__ import annotations

import math
import re
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from realvoice.store.users import create_key

from .browser import HAVE_CHROMIUM, launch, serve, shot

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is absent (apt-get install chromium)")

PHONE = {"width": 390, "height": 844}
NO_MICROPHONE = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


@pytest.fixture(scope="module")
def base_url(service) -> Iterator[str]:
    yield from serve(service)


@pytest.fixture(scope="module")
def key(service) -> str:
    return create_key(service.db, "access-user")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, base_url):
    """A fresh phone-sized page with no stored key, at the sign-in form."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(base_url + "/")
    yield page
    context.close()


def sign_in(page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#app")).to_be_visible()


def active_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_focus_lands_on_the_first_step_after_sign_in(phone, key):
    sign_in(phone, key)
    assert active_id(phone) == "create-h"


def test_the_page_says_who_is_signed_in(phone, key):
    sign_in(phone, key)
    sync_api.expect(phone.locator("#whoami-text")).to_have_text("Signed in as access-user")
    assert key[:8] not in phone.locator("header").inner_text()  # the name, not a piece of the secret


def test_keyboard_only_sign_in_at_phone_size(phone, key):
    """Tab to the key, type it, press Enter: signed in, and the next Tab goes on into the first step."""
    for _ in range(5):
        phone.keyboard.press("Tab")
        if active_id(phone) == "api-key":
            break
    assert active_id(phone) == "api-key"
    phone.keyboard.type(key)
    phone.keyboard.press("Enter")
    sync_api.expect(phone.locator("#app")).to_be_visible()
    assert active_id(phone) == "create-h"
    phone.keyboard.press("Tab")
    assert active_id(phone) == "record"  # the first control of step 1, not the top of the page
    shot(phone, "access-1-phone-signed-in")


def test_checkboxes_are_24_px_targets_on_a_phone(phone, key):
    sign_in(phone, key)
    boxes = phone.locator("input[type=checkbox]:visible")
    assert boxes.count() >= 6  # the consent and every effect
    for i in range(boxes.count()):
        box = boxes.nth(i).bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24, (i, box)


def _rgb(css: str) -> tuple[float, ...]:
    numbers = re.findall(r"[\d.]+", css)
    assert len(numbers) >= 3, css
    return tuple(float(n) for n in numbers[:3])


def _luminance(rgb: tuple[float, ...]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two CSS rgb() colours."""
    high, low = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_stands_out_on_every_background(phone, scheme):
    """The ring a keyboard user follows has at least 3:1 against the page and the panels, in both themes."""
    phone.emulate_media(color_scheme=scheme)
    phone.locator("#api-key").focus()
    phone.keyboard.press("Shift+Tab")  # a keyboard move, so :focus-visible applies
    ring = phone.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return {color: s.outlineColor, style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""
    )
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    page_bg = phone.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    panel_bg = phone.evaluate("getComputedStyle(document.querySelector('.panel')).backgroundColor")
    assert (_luminance(_rgb(page_bg)) < 0.1) == (scheme == "dark")  # the theme really switched
    for background in (page_bg, panel_bg):
        assert contrast(ring["color"], background) >= 3, (scheme, ring["color"], background)


def test_the_page_has_a_favicon(phone, base_url):
    href = phone.locator("link[rel=icon]").get_attribute("href")
    assert href
    r = httpx.get(f"{base_url}/{href}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(r.text).tag.endswith("svg")


def _tone(path: Path, seconds: float = 3.0) -> Path:
    """A 440 Hz tone: not speech (the check rejects it), but a file the browser plays."""
    rate = 16000
    frames = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return path


def test_an_upload_answers_the_no_microphone_message(phone, key, tmp_path):
    phone.add_init_script(NO_MICROPHONE)
    phone.reload()
    sign_in(phone, key)
    phone.get_by_role("button", name="Start recording").click()
    status = phone.locator("#record-status")
    sync_api.expect(status).to_contain_text("Upload a file instead")
    phone.locator("#upload").set_input_files(str(_tone(tmp_path / "tone.wav")))
    sync_api.expect(phone.locator("#samples > li")).to_have_count(1)
    sync_api.expect(status).to_have_text("")


def test_each_sample_is_one_tab_stop_to_play(phone, key, tmp_path):
    """A Play button per sample drives one shared player: Tab goes Play, Remove, next sample's Play."""
    sign_in(phone, key)
    phone.locator("#upload").set_input_files([str(_tone(tmp_path / f"tone-{i}.wav")) for i in range(2)])
    items = phone.locator("#samples > li")
    sync_api.expect(items).to_have_count(2)
    for i in range(2):  # the list is drawn again when a check ends; wait for both before moving focus
        sync_api.expect(items.nth(i).locator(".verdict")).not_to_have_text("Checking…", timeout=60_000)
    assert phone.locator("#samples audio").count() == 0
    play = items.nth(0).get_by_role("button", name="Play tone-0.wav")
    play.focus()
    stops = []
    for _ in range(2):
        phone.keyboard.press("Tab")
        stops.append(phone.evaluate("document.activeElement.getAttribute('aria-label')"))
    assert stops == ["Remove tone-0.wav", "Play tone-1.wav"]
    phone.keyboard.press("Enter")  # plays the second sample, and the focus stays on its button
    sync_api.expect(items.nth(1).locator("button.play")).to_have_attribute("aria-label", "Pause tone-1.wav")
    assert phone.evaluate("document.activeElement.getAttribute('aria-label')") == "Pause tone-1.wav"
    phone.keyboard.press("Enter")
    sync_api.expect(items.nth(1).locator("button.play")).to_have_text("▶ Play")
    sync_api.expect(items.nth(0).locator("button.play")).to_have_text("▶ Play")

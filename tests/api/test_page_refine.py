"""Refining from the page, in Chromium: a rough draft or a stock voice says so and offers the refinement;
any voice has a Refine button; the job's progress shows under the voice and its verdict in words.

The session's service under a server whose jobs run in its threads, so that the refinement's fit and
validation can be stood in for (conftest.fake_refinement) and a refinement takes seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from realvoice.store.users import create_key

from .browser import HAVE_CHROMIUM, serve, shot, signed_in

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is absent (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def base_url(service) -> Iterator[str]:
    yield from serve(service, sse_interval_s=0.1, jobs_in_child_processes=False)


@pytest.fixture
def page(base_url, service, refinable, fake_refinement):
    with signed_in(base_url, create_key(service.db, "rhea")) as page:
        yield page


def test_a_rough_draft_offers_the_refinement_and_the_page_follows_it(page, refinable):
    item = page.locator(f'#voices li[data-voice="{refinable.voice_id}"]')
    # a stock voice (what a fit that could not be kept leaves) says so, and offers the refinement
    sync_api.expect(item.locator(".rough")).to_have_text("Not your voice yet: refine it to fit it to your recordings.")
    button = item.get_by_role("button", name="Refine Rhea")
    sync_api.expect(button).to_have_class("refine")  # in full colour on a rough draft
    shot(page, "refine-1-rough-draft")
    button.click()
    status = page.locator("#voices-status")
    sync_api.expect(status).to_contain_text("Rhea is refined (version 2).", timeout=120_000)
    sync_api.expect(status).to_contain_text("closer to you (likeness 0.55 → 0.78)")
    item = page.locator(f'#voices li[data-voice="{refinable.voice_id}"]')
    sync_api.expect(item.locator(".version")).to_have_text("Version 2 (refined)")
    sync_api.expect(item.locator(".rough")).to_have_count(0)
    sync_api.expect(item.locator(".badge")).to_have_count(0)  # no longer "stock voice, not yours"
    sync_api.expect(item.get_by_role("button", name="Refine Rhea")).to_have_class("secondary refine")  # still there
    shot(page, "refine-2-refined")


def test_a_refinement_that_does_not_validate_better_says_the_voice_is_kept(page, refinable, fake_refinement):
    scores, _ = fake_refinement
    scores["fitted"] = scores["stock"]
    page.locator(f'#voices li[data-voice="{refinable.voice_id}"]').get_by_role("button", name="Refine Rhea").click()
    status = page.locator("#voices-status")
    sync_api.expect(status).to_contain_text("Rhea is kept as it was.", timeout=120_000)
    sync_api.expect(status).to_contain_text("did not come out closer")
    item = page.locator(f'#voices li[data-voice="{refinable.voice_id}"]')
    sync_api.expect(item.locator(".rough")).to_be_visible()

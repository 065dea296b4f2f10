"""A real browser: a page's settings travel in its link, and the Compare page draws a comparison.

Uses test_browser's server (``streamlit run app.py`` on loopback, synthetic data) and Debian's
chromium through Playwright."""
import time

import pytest

from tests.test_browser import CHROMIUM, SHOTS, page, server, wait_rendered  # noqa: F401

pytestmark = [pytest.mark.browser]


def form_state(tab) -> dict:
    """What the settings column shows: every select box's text and every slider's value,
    by label."""
    tab.locator("[data-testid='stSlider']").first.wait_for(timeout=60_000)   # the form is drawn
    if not tab.get_by_text("random seed").first.is_visible():
        tab.get_by_text("Advanced settings").first.click()  # draw the advanced fields too
    tab.get_by_text("random seed").first.wait_for(state="visible", timeout=30_000)
    shown = {}
    for box in tab.locator("[data-testid='stSelectbox']").all():
        label = box.locator("label").first.inner_text().strip()
        field = box.locator("input")
        value = field.first.input_value() if field.count() else ""
        shown[f"select {label}"] = value or box.inner_text().replace(label, "", 1).strip()
    for slider in tab.locator("[data-testid='stSlider']").all():
        label = slider.locator("label").first.inner_text().strip()
        thumb = slider.locator("[data-testid='stSliderThumbValue']")
        shown[f"slider {label}"] = thumb.first.inner_text().strip() if thumb.count() else \
            slider.locator("input").first.input_value()
    for toggle in tab.locator("[data-testid='stCheckbox']").all():
        shown[f"toggle {toggle.inner_text().strip()}"] = toggle.locator("input").first.is_checked()
    for number in tab.locator("[data-testid='stNumberInput'] input").all():
        shown[f"number {number.get_attribute('aria-label')}"] = number.input_value()
    return shown


def choose(tab, label: str, option: str) -> None:
    tab.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    tab.get_by_role("option", name=option, exact=True).click()
    wait_rendered(tab)
    time.sleep(0.5)


def test_a_copied_link_opens_the_same_settings_in_a_new_browser(server, page):  # noqa: F811
    page.goto(f"{server}/cnn?preset=recommended&epochs=4")
    wait_rendered(page)
    page.get_by_text("Opened from a link").wait_for(timeout=30_000)
    choose(page, "kernel size", "7")                       # a change made in the page
    deadline = time.time() + 20
    address = page.evaluate("location.href")
    while "kernel_size=7" not in address and time.time() < deadline:
        time.sleep(0.2)
        address = page.evaluate("location.href")
    assert "kernel_size=7" in address and "epochs=4" in address   # the URL follows the form
    page.get_by_role("button", name="Copy link").click()
    code = page.locator("[data-testid='stPopoverBody'] [data-testid='stCode'] code").first
    code.wait_for(timeout=10_000)
    link = code.inner_text().strip()
    assert link.startswith(server) and "kernel_size=7" in link
    page.keyboard.press("Escape")
    # Streamlit's frontend can, for a moment after a rerun, paint a slider at its minimum while
    # the server holds the value: read until the sender shows what its link says.
    before, deadline = form_state(page), time.time() + 20
    while before.get("slider epochs") != "4" and time.time() < deadline:
        time.sleep(0.5)
        before = form_state(page)
    page.screenshot(path=str(SHOTS / "link-sender.png"), full_page=True)

    other = page.context.browser.new_context(viewport={"width": 1400, "height": 2400})
    try:
        tab = other.new_page()
        tab.goto(link)
        wait_rendered(tab)
        tab.get_by_text("Opened from a link").wait_for(timeout=30_000)
        # (the same moment can happen on the receiving tab: read until the forms agree or 30 s)
        after, deadline = form_state(tab), time.time() + 30
        while after != before and time.time() < deadline:
            time.sleep(0.5)
            after = form_state(tab)
        tab.screenshot(path=str(SHOTS / "link-receiver.png"), full_page=True)
        assert tab.locator("[data-testid='stException']").count() == 0
    finally:
        other.close()
    assert after == before
    assert "7" in after["select kernel size"] and after["slider epochs"] == "4"
    # The form differs from the preset, so both boxes say Custom; the link names the preset the
    # settings started from.
    assert after["select Preset"].startswith("Custom") and "preset=recommended" in link


def test_a_bad_link_value_is_refused_on_the_page(server, page):  # noqa: F811
    page.goto(f"{server}/mlp?learning_rate=-3&hidden_size=banana&dropout=0.2")
    wait_rendered(page)
    page.get_by_text("Some of the link's settings were not applied").wait_for(timeout=30_000)
    warning = page.locator("[data-testid='stAlert']").filter(has_text="not applied").inner_text()
    assert "learning_rate" in warning and "hidden_size" in warning and "dropout" not in warning
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(SHOTS / "link-refused.png"), full_page=True)

"""A real browser: the sidebar's language box switches the app to Chinese, and a reload (a new
session) keeps the choice through the visitor's cookie, not the URL; a ?lang= link opens Chinese."""
import re

import pytest

from tests.test_browser import page, server, wait_rendered  # noqa: F401

pytestmark = [pytest.mark.browser]
CJK = re.compile(r"[\u4e00-\u9fff]")


def sidebar_text(tab) -> str:
    return tab.locator("[data-testid='stSidebarNav']").inner_text()


def cookie_says(tab, code: str) -> None:
    """The choice reaches the cookie a moment after the page is drawn (the cookie component's
    script runs in the browser after the rerun): a reload before that starts from the old one."""
    tab.wait_for_function(f"document.cookie.includes('dlstudio_lang={code}')", timeout=30_000)


def test_the_language_switch_is_kept_across_a_reload(server, page):  # noqa: F811
    page.goto(f"{server}/cnn")
    wait_rendered(page)
    page.get_by_text("Classifiers").first.wait_for(timeout=30_000)
    assert not CJK.search(sidebar_text(page))
    page.locator("[data-testid='stSelectbox']").filter(has_text="Language / 语言").click()
    page.get_by_role("option", name="中文", exact=True).click()
    page.get_by_text("分类器").first.wait_for(timeout=30_000)       # the menu in Chinese
    wait_rendered(page)
    assert "lang=" not in page.evaluate("location.href")            # never in the URL
    cookie_says(page, "zh")
    page.reload()
    wait_rendered(page)
    page.get_by_text("分类器").first.wait_for(timeout=30_000)       # kept by the cookie
    assert page.locator("[data-testid='stException']").count() == 0
    # and back: English again after a reload
    page.locator("[data-testid='stSelectbox']").filter(has_text="Language / 语言").click()
    page.get_by_role("option", name="English", exact=True).click()
    page.get_by_text("Classifiers").first.wait_for(timeout=30_000)
    wait_rendered(page)
    cookie_says(page, "en")
    page.reload()
    wait_rendered(page)
    page.get_by_text("Classifiers").first.wait_for(timeout=30_000)
    assert not CJK.search(sidebar_text(page))


def test_a_lang_link_opens_the_page_in_chinese(server, page):  # noqa: F811
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 2400})
    try:
        tab = context.new_page()
        tab.goto(f"{server}/dcgan?lang=zh")
        wait_rendered(tab)
        tab.get_by_text("分类器").first.wait_for(timeout=30_000)
        assert tab.get_by_role("button", name="加载预训练模型").count() >= 1 or \
            CJK.search(tab.locator("h1").first.inner_text() + sidebar_text(tab))
        assert tab.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()

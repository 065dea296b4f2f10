"""A hosted demo in a real browser (Debian's chromium, Playwright): the visitor's identity is a
cookie, never in a URL; any address pasted from the address bar or a *Copy link* hands nothing
over; the same browser keeps its runs and job in a new tab."""
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_browser import CHROMIUM, SHOTS, free_port, wait_rendered
from ui.navigation import ALL

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (make browser)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic", "DLSTUDIO_DEMO": "1",
           "DLSTUDIO_DEMO_MAX_SECONDS": "60",
           "DLSTUDIO_RUNS_DIR": str(tmp_path_factory.mktemp("demo-runs"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode()[-2000:])
    yield url
    process.terminate()
    try:
        log = process.communicate(timeout=10)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.kill()
        log = ""
    server.log = log


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def new_tab(context):
    return context.new_page()


def address_bar(tab, timeout: float = 10.0) -> str:
    """What the address bar shows once Streamlit's own history.replaceState after a page switch
    has happened (Playwright's ``page.url`` can lag it): the same address on two reads 0.3 s
    apart, the script not running."""
    wait_rendered(tab)
    deadline = time.monotonic() + timeout
    shown = tab.evaluate("window.location.href")
    while time.monotonic() < deadline:
        tab.wait_for_timeout(300)
        again = tab.evaluate("window.location.href")
        if again == shown:
            return shown
        shown = again
    return shown


def visitor_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "dlstudio_visitor"), None)


def runs_listed(tab, server) -> list[str]:
    """The run ids the Runs page offers this visitor (its "Run" select's options)."""
    tab.goto(f"{server}/runs")
    wait_rendered(tab)
    main = tab.locator("[data-testid='stMain']")
    main.get_by_text("No runs yet").or_(main.get_by_text("Open on its page")).first.wait_for(
        timeout=30_000)
    if main.get_by_text("No runs yet").count():
        return []
    tab.locator("[data-testid='stSelectbox']").filter(has_text="Run").last.click()
    options = tab.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    listed = [text.split()[0] for text in options.all_inner_texts()]
    tab.keyboard.press("Escape")
    return listed


@pytest.mark.slow   # 90 s: every page in four browsers; test_demo's unit tests cover the cookie's rules
def test_identity_is_a_cookie_and_no_url_hands_it_over(server, browser):
    first = browser.new_context(viewport={"width": 1400, "height": 2000})
    tab = new_tab(first)
    tab.goto(f"{server}/cnn")
    wait_rendered(tab)
    deadline = time.time() + 20
    while visitor_cookie(first) is None and time.time() < deadline:
        time.sleep(0.2)
    cookie = visitor_cookie(first)
    assert cookie is not None, "no visitor cookie was written"
    assert cookie["sameSite"] == "Lax" and cookie["expires"] > time.time() + 7 * 86400
    visitor = cookie["value"].split(".")[1]
    assert re.fullmatch(r"[0-9a-f]{32}", visitor)

    tab.get_by_role("button", name="Train", exact=True).click()
    tab.get_by_text("Finished at step").wait_for(timeout=90_000)
    header = tab.get_by_role("heading", name=re.compile(r"^Run \d{8}-")).first.inner_text()
    run_id = header.split()[-1]

    # Every page: the address bar never carries the visitor, its token or its cookie.
    addresses = []
    for entry in ALL:
        tab.goto(f"{server}/{entry.url_path}")
        wait_rendered(tab)
        addresses.append(address_bar(tab))
    tab.goto(f"{server}/cnn?epochs=3")
    wait_rendered(tab)
    addresses.append(address_bar(tab))
    tab.get_by_role("button", name="Copy link").first.click()
    copied = tab.locator("[data-testid='stPopoverBody'] [data-testid='stCode'] code").first
    copied.wait_for(timeout=20_000)
    addresses.append(copied.inner_text().strip())
    for address in addresses:
        assert visitor not in address and "visitor" not in address, address
        assert cookie["value"] not in address, address
    assert "epochs=3" in addresses[-1]      # the settings travel, nothing else

    # A fresh browser that opens each of those addresses sees none of visitor 1's runs.
    stranger = browser.new_context(viewport={"width": 1400, "height": 2000})
    other = new_tab(stranger)
    for address in addresses:
        other.goto(address)
        wait_rendered(other)
        assert other.locator("[data-testid='stException']").count() == 0
    assert run_id not in runs_listed(other, server)
    assert visitor_cookie(stranger)["value"] != cookie["value"]
    # A forged cookie (a valid-looking id, a made-up signature) is a fresh visitor, no error.
    forged = browser.new_context(viewport={"width": 1400, "height": 2000})
    forged.add_cookies([{"name": "dlstudio_visitor", "value": f"v1.{visitor}.{int(time.time())}."
                         + "0" * 32, "url": server}])
    forged_tab = new_tab(forged)
    assert runs_listed(forged_tab, server) == []
    assert forged_tab.locator("[data-testid='stException']").count() == 0

    # The same browser in a new tab (and after a reload) is still visitor 1.
    second_tab = new_tab(first)
    assert runs_listed(second_tab, server) == [run_id]
    second_tab.reload()
    assert runs_listed(second_tab, server) == [run_id]
    SHOTS.mkdir(parents=True, exist_ok=True)
    second_tab.screenshot(path=str(SHOTS / "demo-runs-same-visitor.png"), full_page=True)
    for context in (first, stranger, forged):
        context.close()


@pytest.mark.slow   # 25 s; test_class_board covers the board's rules and page
def test_a_class_board_in_three_browsers(server, browser):
    """A teacher starts a class; a student trains and posts; the teacher and another student see
    the card; only the teacher has Remove."""
    teacher = browser.new_context(viewport={"width": 1400, "height": 2000})
    board = new_tab(teacher)
    board.goto(f"{server}/class")
    wait_rendered(board)
    board.get_by_role("button", name="Start a class", exact=True).click()
    board.get_by_text("Your class is open").wait_for(timeout=30_000)
    board.locator("[data-testid='stCode']").nth(1).wait_for(timeout=30_000)
    time.sleep(0.5)
    links = board.locator("[data-testid='stCode']").all_inner_texts()
    class_link = next(link.strip() for link in links if "teacher=" not in link)
    assert re.search(r"/class\?code=[a-z0-9]{8}$", class_link), links

    student = browser.new_context(viewport={"width": 1400, "height": 2000})
    tab = new_tab(student)
    tab.goto(class_link)
    wait_rendered(tab)
    deadline = time.time() + 20        # the cookie is written once the page has drawn
    while visitor_cookie(student) is None and time.time() < deadline:
        time.sleep(0.2)
    tab.goto(f"{server}/cnn")
    wait_rendered(tab)
    tab.get_by_role("button", name="Train", exact=True).click()
    tab.get_by_text("Finished at step").wait_for(timeout=90_000)
    tab.get_by_role("button", name=re.compile("^Post to the class")).click()
    tab.get_by_text("Posted to the class board").wait_for(timeout=30_000)

    board.goto(class_link)
    wait_rendered(board)
    board.get_by_text("test accuracy").first.wait_for(timeout=30_000)
    assert board.get_by_role("button", name="Remove").count() == 1

    other = browser.new_context(viewport={"width": 1400, "height": 2000})
    watcher = new_tab(other)
    watcher.goto(class_link)
    wait_rendered(watcher)
    watcher.get_by_text("test accuracy").first.wait_for(timeout=30_000)
    assert watcher.get_by_role("button", name="Remove").count() == 0
    assert watcher.get_by_role("button", name="Close the class").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(SHOTS / "class-board-teacher.png"), full_page=True)

    board.get_by_role("button", name="Remove").click()
    watcher.get_by_text("No runs posted yet").wait_for(timeout=30_000)   # the live refresh
    assert watcher.locator("[data-testid='stException']").count() == 0
    for context in (teacher, student, other):
        context.close()

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def shot(tmp_path):
    """Save a full-page screenshot (into $SCREENSHOT_DIR when set, else the test's temporary folder)."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def gallery(shot):
    """`shot` for crawls of many pages: taken only into $SCREENSHOT_DIR, to be looked at (a full-page picture of
    every page at every size is most of such a crawl's time, and nobody looks at the temporary folder)."""
    if os.environ.get("SCREENSHOT_DIR"):
        return shot
    return lambda page, name: None


@pytest.fixture
def sign_in(live_server):
    def do(page, username, password="accretion-demo"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail or user name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return do

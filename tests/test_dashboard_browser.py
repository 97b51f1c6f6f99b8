"""The admin dashboard in a real browser: Debian's Chromium, headless, driven by Selenium through chromedriver.

Signs in through the form, opens every page, resolves a worklist item with its button, and takes full-page
screenshots at a desktop size. They always land in the test's tmp dir; with ``KIOSK_WRITE_SCREENSHOTS=1`` they are
also copied to docs/screenshots/dashboard-*.png for the README.

Skipped when chromium, chromedriver or selenium is missing, unless ``KIOSK_REQUIRE_BROWSER=1``. Selenium Manager never
runs (``SE_OFFLINE``, explicit driver path): the hospital network and CI have no internet.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from server.auth.staff import create_staff
from server.dashboard.demo import Sample, seed_sample
from server.dbapi import write_tx

if TYPE_CHECKING:
    from conftest_server import Api

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KIOSK_CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH, HEIGHT = 1400, 900
PASSWORD = "correct-horse-battery"
USERNAME = "ops.admin"
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--lang=zh-CN",
    "--force-device-scale-factor=1",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("KIOSK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"a browser is required here: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not os.access(binary, os.X_OK):
            _unavailable(f"{binary} not found (apt-get install chromium chromium-driver)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager go looking for a driver online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, name: str, out: Path) -> Path:
    """The whole page (not only the window) at WIDTH css pixels, as PNG."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": WIDTH, "height": max(HEIGHT, int(size["height"])), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path = out / f"dashboard-{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def _submit(driver: Any, button: Any, expected_url: str) -> None:
    """Click a form's button and wait for the page it leads to (a click does not wait for a form post)."""
    from selenium.webdriver.support.wait import WebDriverWait

    old = driver.find_element("tag name", "html")
    button.click()
    WebDriverWait(driver, 10).until(
        lambda d: d.current_url.startswith(expected_url) and old != d.find_element("tag name", "html")
    )


def _row(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the pages' SQL runs on both backends in test_dashboard.py
def test_dashboard_in_chromium(api: Api, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    assert api.srv.app is not None
    with api.srv.app.state.db.connection() as conn, write_tx(conn):
        sample: Sample = seed_sample(conn, api.srv.app.state.cipher)
    with api.srv.app.state.db.connection() as conn:
        create_staff(conn, USERNAME, PASSWORD, "admin")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    taken = []

    # Not signed in: the page sends the browser to the form, which brings it back after sign-in.
    browser.get(api.base + "/dashboard/payments")
    assert browser.current_url.startswith(api.base + "/dashboard/login?next=")
    browser.find_element(By.ID, "username").send_keys(USERNAME)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    taken.append(_screenshot(browser, "login", shots))
    _submit(browser, browser.find_element(By.ID, "sign-in"), api.base + "/dashboard/payments")
    assert browser.current_url == api.base + "/dashboard/payments", browser.page_source[-1500:]
    cookie = browser.get_cookie("kiosk_staff_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # Kiosks: badges, the offline one, faults.
    browser.find_element(By.LINK_TEXT, "Kiosks 自助机").click()
    assert "3 online, 1 offline, 2 with faults" in browser.find_element(By.ID, "summary").text
    for kiosk_id in sample.kiosk_ids:
        assert _row(browser, f'tr[data-kiosk="{kiosk_id}"]').is_displayed()
    offline = _row(browser, 'tr[data-kiosk="KIOSK-04"]')
    assert "offline" in offline.get_attribute("class") and "Offline 离线" in offline.text
    assert "Online 在线" in _row(browser, 'tr[data-kiosk="KIOSK-01"]').text
    fault = _row(browser, 'tr[data-kiosk="KIOSK-02"] .chip.bad')
    assert fault.text == "printer: error"
    assert fault.value_of_css_property("background-color") == "rgba(198, 40, 40, 1)"  # red, not just a word
    taken.append(_screenshot(browser, "kiosks", shots))

    # Payments: amounts in yuan, every status, the filter tabs.
    browser.find_element(By.LINK_TEXT, "Payments 支付").click()
    table = browser.find_element(By.TAG_NAME, "table").text
    assert "¥12.00" in table and "¥25.50" in table and "NOTENOUGH" in table
    statuses = [r.get_attribute("data-status") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-status]")]
    assert sorted(set(statuses)) == ["FAILED", "PENDING", "REVERSED", "SUCCESS"]
    taken.append(_screenshot(browser, "payments", shots))
    browser.find_element(By.PARTIAL_LINK_TEXT, "FAILED").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-status]")
    assert [r.get_attribute("data-status") for r in rows] == ["FAILED"] and "¥50.00" in rows[0].text

    # Reconciliation: the run with findings is open and shows the embedded report.
    browser.find_element(By.LINK_TEXT, "Reconciliation 对账").click()
    run = _row(browser, f'details[data-run="{sample.bill_date}-wechat"]')
    assert run.get_attribute("open") is not None
    assert "amounts differ" in run.text and "3 findings" in run.text
    assert "SYSTEMERROR" in browser.find_element(By.TAG_NAME, "main").text
    taken.append(_screenshot(browser, "reconciliation", shots))

    # Worklist: resolve the first item through its button; it moves to the resolved list.
    browser.find_element(By.LINK_TEXT, "Worklist 待办").click()
    assert "4 open items" in browser.find_element(By.ID, "summary").text
    target = sample.work_item_ids[0]
    _submit(browser, _row(browser, f'tr[data-item="{target}"] button'), api.base + "/dashboard/worklist")
    assert browser.current_url == api.base + "/dashboard/worklist"
    assert "3 open items" in browser.find_element(By.ID, "summary").text
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-item="{target}"]')
    assert USERNAME in _row(browser, f'tr[data-resolved="{target}"]').text
    taken.append(_screenshot(browser, "worklist", shots))
    row = api.sql("SELECT status, resolved_by FROM worklist_items WHERE id = ?", (target,))[0]
    assert (row[0], row[1]) == ("resolved", USERNAME)

    # Sign out: back to the form, and the pages are closed again.
    _submit(browser, browser.find_element(By.XPATH, "//button[contains(., 'Sign out')]"), api.base + "/dashboard/login")
    assert browser.current_url.startswith(api.base + "/dashboard/login")
    browser.get(api.base + "/dashboard")
    assert browser.current_url.startswith(api.base + "/dashboard/login")

    if os.environ.get("KIOSK_WRITE_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "screenshots"
        for path in taken:
            shutil.copyfile(path, docs / path.name)

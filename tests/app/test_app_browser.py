"""The app in a real browser: Debian's chromium, driven by Playwright's Python package.

The first test starts ``statebiz app`` on a free local port, loads the model page (it opens
at the stationary state, after the burn-in, with the burn-in's last quarters as history),
moves a lever, resets and steps the model, and checks that the numbers and the plots change;
then it opens the explorer on a small sweep made here. The second steps the comparison page
(two values of s, stepped together) and checks that the differences change when a lever moves.
Screenshots go to ``results/app/``.

Without the browser (or the app extra) the test is skipped with the reason; with
``STATEBIZ_REQUIRE_BROWSER=1`` (set by ``.ci/run``) it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = Path(os.environ.get("STATEBIZ_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = REPO_ROOT / "results" / "app"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
        import solara  # noqa: F401
    except ImportError as err:
        return f"the app extra and playwright are not installed ({err.name}): pip install -e '.[app,dev]'"
    if not CHROMIUM.is_file():
        return f"no browser at {CHROMIUM}: apt-get install -y chromium (or set STATEBIZ_CHROMIUM)"
    return None


def _require_browser():
    reason = _missing()
    if reason and os.environ.get("STATEBIZ_REQUIRE_BROWSER") == "1":
        pytest.fail(f"STATEBIZ_REQUIRE_BROWSER=1 but {reason}")
    if reason:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _small_sweep(tmp_path: Path) -> Path:
    from simulation.runs import load_experiment, run_sweep

    exp = tmp_path / "tiny_regime_map.toml"
    exp.write_text(
        f'''name = "tiny_regime_map"
scenario = "{REPO_ROOT / "scenarios" / "turkestan.toml"}"
replications = 2
seed = 5
quarters = 4
outcomes = ["regime_*", "corruption_incidence", "business_satisfied"]
[base]
firms = 200
residents_per_region = 200
burn_in = 4
[design]
type = "factorial"
[levers]
governance = ["partnership", "symbiotic"]
[uncertainties]
power_strength = [0.3, 0.7]
business_strength = [0.2, 0.8]
'''
    )
    root = tmp_path / "results"
    run_sweep(load_experiment(exp), out_dir=root / "tiny_regime_map", backend="serial", progress=False)
    return root


@contextlib.contextmanager
def serving_app(results: Path, port: int, env: dict | None = None):
    """``statebiz app`` on ``port`` over ``results``, started in a child process and waited for
    (60 s at most); yields (url, process), and stops it afterwards (SIGTERM: statebiz app stops
    its Solara child on it; then SIGKILL after 15 s)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation", "app", "--port", str(port), "--results", str(results)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the app did not start: {proc.stdout.read()}") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def app_server(tmp_path):
    _require_browser()
    with serving_app(_small_sweep(tmp_path), _free_port()) as (url, _):
        yield url


def _state(page) -> tuple[str, list[str]]:
    now = page.locator(".v-card", has_text="Levers in effect").first.inner_text()
    images = page.locator("img").evaluate_all("els => els.map(e => e.src.length + ':' + e.src.slice(-80))")
    return now, images


def test_app_model_page_and_explorer(app_server, tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(  # a fresh profile directory
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            viewport={"width": 1500, "height": 2300},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(app_server)
            page.get_by_role("button", name="Step", exact=True).wait_for()
            page.get_by_text("Levers in effect").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 4")
            before, images_before = _state(page)
            assert "0 of 40 (end of the burn-in)" in before
            nav = page.locator("header").inner_text().lower()
            assert "home" not in nav and "page 0" not in nav and "compare" in nav

            # move a lever: audit_rate to its maximum, then Reset to build the model with it
            slider = page.locator(".v-input", has_text="audit_rate (0–1, probability)").get_by_role("slider")
            slider.focus()
            slider.press("End")
            page.get_by_role("button", name="Reset", exact=True).click()
            page.get_by_text("audit_rate = 1 (set here)").wait_for()
            assert "1 set here" in _state(page)[0], _state(page)[0]

            for quarter in (1, 2, 3):
                page.get_by_role("button", name="Step", exact=True).click()
                page.get_by_text(f"{quarter} of 40").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 4")
            time.sleep(1.0)  # the last figures' PNGs arrive after the numbers
            after, images_after = _state(page)
            assert "corruption incidence" in after and "%" in after
            assert after != before
            changed = sum(a != b for a, b in zip(images_after, images_before))
            assert changed >= 4, f"only {changed} plots changed"
            page.screenshot(path=str(SHOTS / "model_page.png"), full_page=True)

            page.goto(app_server + "explorer")
            page.get_by_text("tiny_regime_map").first.wait_for()
            page.get_by_text("Regime map").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 2")
            text = page.inner_text("body")
            assert "16 runs (0 failed)" in text
            page.screenshot(path=str(SHOTS / "explorer_page.png"), full_page=True)
        finally:
            browser.close()


def _differences(page) -> dict[str, float]:
    """The comparison page's table of differences: outcome -> difference."""
    text = page.locator(".v-card", has_text="Differences now").first.inner_text()
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            try:
                out[parts[0].strip()] = float(parts[1])
            except ValueError:
                continue
    return out


def test_app_comparison_page(app_server, tmp_path):
    """The comparison page builds both models, steps them together, and its differences move
    when a lever moves (audit_rate to its maximum: corruption incidence at s = 1 falls)."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            viewport={"width": 1500, "height": 1600},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(app_server + "compare")
            page.get_by_text("Differences now").wait_for()
            page.wait_for_function("document.querySelectorAll('img').length >= 4")
            start = _differences(page)
            assert "corruption incidence" in start and len(start) >= 10, start
            for quarter in (1, 2):
                page.get_by_role("button", name="Step", exact=True).click()
                page.get_by_text(f"quarter {quarter} of 40").wait_for()
            stepped = _differences(page)
            assert stepped != start  # both models stepped: the last year's window moved
            time.sleep(1.0)
            page.screenshot(path=str(SHOTS / "compare_page.png"), full_page=True)

            slider = page.locator(".v-input", has_text="audit_rate (0–1, probability)").get_by_role("slider")
            slider.focus()
            slider.press("End")
            page.get_by_role("button", name="Reset", exact=True).click()
            page.get_by_text("quarter 0 of 40").wait_for()
            page.get_by_text("Differences now").wait_for()
            for quarter in (1, 2):
                page.get_by_role("button", name="Step", exact=True).click()
                page.get_by_text(f"quarter {quarter} of 40").wait_for()
            moved = _differences(page)
            assert moved["corruption incidence"] != stepped["corruption incidence"], (stepped, moved)
            time.sleep(1.0)
            page.screenshot(path=str(SHOTS / "compare_page_audit_rate_1.png"), full_page=True)
        finally:
            browser.close()

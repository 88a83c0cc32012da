"""The HTML report renders in a real headless Chromium, with every image loaded and non-blank."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from modelworks.report import Report


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def serve_dir():
    """A real HTTP server on 127.0.0.1 serving a directory (same origin, so canvases can read pixels)."""
    servers = []

    def start(directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


_IMAGE_STATS = """
() => Array.from(document.images).map(img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  if (!img.complete || img.naturalWidth === 0) return {src: img.src, ok: false, distinct: 0};
  const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length && seen.size < 50; i += 4 * 97) seen.add(data[i] + ',' + data[i+1] + ',' + data[i+2]);
  return {src: img.src, ok: true, distinct: seen.size};
})
"""


def check_report_in_browser(report_path, serve_dir) -> dict:
    """Open a report over HTTP in headless Chromium; return its title, sections and image stats."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        pytest.fail("chromium is not installed (make test installs it with apt-get install chromium)")
    base = serve_dir(report_path.parent)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            response = page.goto(f"{base}/{report_path.name}", wait_until="load")
            assert response is not None and response.ok
            stats = page.evaluate(_IMAGE_STATS)
            sections = page.eval_on_selector_all("section h2", "els => els.map(e => e.textContent)")
            title = page.title()
        finally:
            browser.close()
    assert not errors, errors
    return {"title": title, "sections": sections, "images": stats}


@pytest.mark.browser
def test_report_page_and_images_load(tmp_path, serve_dir):
    import matplotlib.pyplot as plt
    import pandas as pd

    report = Report(tmp_path, title="browser check", subtitle="unit")
    sec = report.section("Numbers")
    sec.metrics({"auc": 0.91}).table(pd.DataFrame({"model": ["a", "b"], "score": [0.9, 0.8]}))
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0, 1, 4])
    sec.figure(fig, "curve", "a curve", report=report)
    result = check_report_in_browser(report.write(), serve_dir)
    assert result["title"] == "browser check" and result["sections"] == ["Numbers"]
    assert len(result["images"]) == 1 and result["images"][0]["ok"] and result["images"][0]["distinct"] > 2


@pytest.mark.browser
@pytest.mark.slow
def test_run_report_renders_with_every_image(tmp_path, serve_dir):
    import modelworks
    from modelworks.workflow import demo_data

    frame, target = demo_data("breast_cancer")
    result = modelworks.run(frame, target, out_dir=tmp_path, models=["logreg", "rf", "lightgbm"], cv=3,
                            time_budget=120)
    stats = check_report_in_browser(result.report_path, serve_dir)
    assert {"Data", "Model search", "Held-out evaluation"} <= set(stats["sections"])
    assert len(stats["images"]) >= 5
    bad = [img["src"] for img in stats["images"] if not img["ok"] or img["distinct"] < 3]
    assert not bad, f"images that did not load or are blank: {bad}"
    if "Explanations" in stats["sections"]:  # the explanation plots must render too
        assert any("shap" in img["src"] or "pdp" in img["src"] for img in stats["images"])

"""The HTML leaderboard fits a 1280 px browser window: every metric column is visible.

Measured in headless Chromium: a script added to the page writes the table's and each column
title's right edge into the DOM, which ``--dump-dom`` prints. Skipped where no Chromium is
installed (CI installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.reports.formats import render_html
from harness.reports.leaderboard import build_leaderboard
from harness.results.loading import load_results

BROWSER = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
    None,
)
MEASURE = """
<script>
window.addEventListener("load", function () {
  var edges = Array.prototype.map.call(
    document.querySelectorAll("#board th"), function (th) {
      return [th.textContent, th.getBoundingClientRect().right];
    });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    viewport: window.innerWidth,
    table: document.getElementById("board").getBoundingClientRect().right,
    headers: edges,
  });
  document.body.appendChild(out);
});
</script>
"""


def measure(page: Path, width: int) -> dict:
    dom = subprocess.run(
        [
            str(BROWSER),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--window-size={width},900",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, flags=re.S)
    assert found, "the measuring script did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.mark.skipif(BROWSER is None, reason="needs Chromium (apt-get install chromium)")
def test_every_metric_column_is_visible_at_1280_px(compared_results, tmp_path: Path) -> None:
    board = build_leaderboard(load_results([o.result_path for o in compared_results]))
    page = tmp_path / "leaderboard.html"
    page.write_text(render_html(board).replace("</body>", MEASURE + "</body>"), "utf-8")
    measured = measure(page, 1280)
    assert measured["viewport"] == 1280
    titles = [title for title, _ in measured["headers"]]
    assert len(titles) == 4 + len(board.metrics) + 1  # method, parameters, budget, seeds, ...
    assert measured["table"] <= measured["viewport"], measured
    for title, right in measured["headers"]:
        assert right <= measured["viewport"], f"column {title!r} ends at {right} px"

"""`ingot train --report DIR`: report.html is one self-contained page (nothing fetched) with the
charts' titles, and rendered by headless Chromium (Debian's chromium) its plot areas are there
and not blank: every area of the plot background colour (svg.h's SVG_PLOT_FILL, used by nothing
else on the page; grid lines and curves cut it, so it is grown by a few pixels to join the
pieces) holds enough coloured pixels — curves, markers, heatmap cells."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

PLOT_FILL = (0xF7, 0xF8, 0xFA)
TITLES = ["Loss", "Accuracy", "Learning rate", "Confusion matrix", "ROC curves (one-vs-rest)",
          "Precision-recall curves (one-vs-rest)"]
SECTIONS = ["Training", "Evaluation on the test set", "Model", "Configuration"]


def components(mask):
    """Bounding boxes (top, left, bottom, right) of the 4-connected regions of mask, from runs of
    each row joined to the overlapping runs of the row above (union-find)."""
    parent = []

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    runs, prev = [], []
    for y, row in enumerate(mask):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        cur = []
        for x0, x1 in zip(edges[::2], edges[1::2]):
            i = len(parent)
            parent.append(i)
            runs.append((y, x0, x1))
            for j, p0, p1 in prev:
                if p0 < x1 and x0 < p1:
                    parent[find(j)] = find(i)
            cur.append((i, x0, x1))
        prev = cur
    boxes = {}
    for i, (y, x0, x1) in enumerate(runs):
        r = find(i)
        t, l, b, rt = boxes.get(r, (y, x0, y, x1))
        boxes[r] = (min(t, y), min(l, x0), max(b, y + 1), max(rt, x1))
    return list(boxes.values())


def dilate(mask, r):
    """mask grown by r pixels in x and y (a square neighbourhood): a plot area cut by grid
    lines and curves becomes one region again; charts lie further apart than that."""
    rows = mask.copy()
    for d in range(1, r + 1):
        rows[d:] |= mask[:-d]
        rows[:-d] |= mask[d:]
    out = rows.copy()
    for d in range(1, r + 1):
        out[:, d:] |= rows[:, :-d]
        out[:, :-d] |= rows[:, d:]
    return out


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def main():
    ingot = os.path.join(os.environ["INGOT_BIN"], "ingot")
    browser = chromium()
    if not browser:
        print("no chromium (apt-get install chromium; make deps does)")
        return 1 if os.environ.get("INGOT_REQUIRE_PY_TESTS") == "1" else 77
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report")
        subprocess.run([ingot, "train", "--limit", "300", "--epochs", "2", "--device", "cpu", "--progress", "off",
                        "--report", report], check=True, stdout=subprocess.DEVNULL)
        html = open(os.path.join(report, "report.html"), encoding="utf-8").read()
        for t in TITLES:
            assert "<title>%s</title>" % t in html, "no chart titled %r" % t
        for s in SECTIONS:
            assert "<h2>%s</h2>" % s in html, "no section %r" % s
        # self-contained: no scripts, stylesheets, images or frames from anywhere
        assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|url\(", html), "the page loads something"
        assert len(re.findall(r"https?://", html)) == html.count('xmlns="http://www.w3.org/2000/svg"'), "a link out"
        plots_in_html = html.count('class="plot"')

        shot = os.path.join(tmp, "shot.png")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1400,4000", "--screenshot=" + shot, "file://" + os.path.join(report, "report.html")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        px = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
        fill = np.all(np.abs(px - np.array(PLOT_FILL)) <= 1, axis=2)
        areas = [b for b in components(dilate(fill, 4)) if b[2] - b[0] >= 100 and b[3] - b[1] >= 100]
        assert len(areas) == plots_in_html == len(TITLES), \
            "%d plot areas on the screenshot, %d in the page, %d charts" % (len(areas), plots_in_html, len(TITLES))
        for t, l, b, r in areas:
            inside = px[t:b, l:r]
            ink = (inside.max(axis=2) - inside.min(axis=2)) >= 60  # coloured: series, markers, heatmap cells
            share = ink.mean()
            assert share >= 0.004, "the plot area at (%d, %d)-(%d, %d) is blank: %.4f coloured" % (l, t, r, b, share)
        print("%d charts rendered, each with coloured content" % len(areas))
    return 0


if __name__ == "__main__":
    sys.exit(main())

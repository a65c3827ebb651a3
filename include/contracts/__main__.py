"""``python -m include.contracts render``: rewrite docs/feeds.md from feeds.yaml."""

import sys
from pathlib import Path

from include.contracts import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "feeds.md"

if __name__ == "__main__":
    if sys.argv[1:] != ["render"]:
        sys.exit("usage: python -m include.contracts render")
    DOC.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {DOC}")

"""Check an HTML page in a real headless browser (Debian's chromium): it renders, its tables hold the rows
we wrote, and a screenshot is kept. The browser runs with no network use of its own and a fresh profile."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MISSING = "chromium not found (Debian: apt-get install -y chromium, which `make setup` does as root)"
# The flags that work on these machines: no sandbox as root, no GPU, and none of the background
# connections a closed network would refuse.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@dataclass
class RenderedRow:
    benchmark: str
    kind: str
    model: str


@dataclass
class DomReport:
    rows: list[RenderedRow] = field(default_factory=list)
    body: dict[str, str] = field(default_factory=dict)  # the <body> attributes the page's script set
    external: list[str] = field(default_factory=list)  # src/href pointing off the page


class _DomParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.report = DomReport()
        self._benchmark: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.report.body = a
        elif tag == "table" and "data-benchmark" in a:
            self._benchmark = a["data-benchmark"]
        elif tag == "tr" and "data-kind" in a and self._benchmark is not None:
            self.report.rows.append(RenderedRow(self._benchmark, a["data-kind"], a.get("data-model", "")))
        for key in ("src", "href"):
            value = a.get(key, "")
            if value and not value.startswith(("data:", "#")):
                self.report.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._benchmark = None


def parse_dom(text: str) -> DomReport:
    parser = _DomParser()
    parser.feed(text)
    return parser.report


@dataclass
class BrowserCheck:
    browser: str
    rows_expected: int
    rows_in_dom: int
    rows_counted_by_page: int | None
    image_ok: bool
    external_references: list[str]
    screenshot: str
    ok: bool
    rendered: list[dict]

    def to_json(self) -> dict:
        return asdict(self)


def _run(chromium: str, profile: Path, args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    env = {"HOME": str(profile), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile / 'profile'}", *args], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s)


def check_page(page: Path, screenshot: Path, expected: list[tuple[str, str, str]], chromium: str,
               width: int = 1600, height: int | None = None, timeout_s: float = 120) -> BrowserCheck:
    """Render `page` headless: dump its DOM after load and compare the table rows with `expected`
    ((benchmark, kind, model) in page order); save a screenshot. Raises RuntimeError if chromium fails."""
    url = page.resolve().as_uri()
    height = height or min(12_000, 500 + 34 * len(expected) + 900)
    with tempfile.TemporaryDirectory(prefix="sca-chromium-") as tmp:
        profile = Path(tmp)
        version = _run(chromium, profile, ["--version"], timeout_s).stdout.strip() or chromium
        dumped = _run(chromium, profile, ["--virtual-time-budget=5000", "--dump-dom", url], timeout_s)
        if dumped.returncode != 0 or "<body" not in dumped.stdout:
            raise RuntimeError(f"{chromium} --dump-dom {url} failed (exit {dumped.returncode}): "
                               f"{dumped.stderr.strip().splitlines()[-1:] or ''}")
        shot = _run(chromium, profile, [f"--window-size={width},{height}", f"--screenshot={screenshot}", url], timeout_s)
        if shot.returncode != 0 or not screenshot.is_file():
            raise RuntimeError(f"{chromium} --screenshot failed (exit {shot.returncode}): "
                               f"{shot.stderr.strip().splitlines()[-1:] or ''}")
    dom = parse_dom(dumped.stdout)
    rendered = [(r.benchmark, r.kind, r.model) for r in dom.rows]
    counted = dom.body.get("data-rows")
    image_ok = dom.body.get("data-image-ok") == "1"
    return BrowserCheck(
        browser=version, rows_expected=len(expected), rows_in_dom=len(rendered),
        rows_counted_by_page=int(counted) if counted and counted.isdigit() else None, image_ok=image_ok,
        external_references=dom.external, screenshot=screenshot.name,
        ok=rendered == list(expected) and counted == str(len(expected)) and image_ok and not dom.external,
        rendered=[asdict(r) for r in dom.rows],
    )

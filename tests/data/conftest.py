import functools
import http.server
import threading
from pathlib import Path

import pytest

from harness import data


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test downloads into its own cache, and loopback never goes through a proxy."""
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("SCA_OFFLINE", raising=False)


@pytest.fixture
def mirror() -> Path:
    """The offline data mirror; tests that need real benchmark files skip without one."""
    path = data.data_dir()
    if path is None:
        pytest.skip("no benchmark data: set SCA_DATA_DIR to a mirror laid out like ../shared/data")
    return path


class _Server:
    """A real HTTP server on 127.0.0.1 serving `root`; it records each requested path."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "upstream"
    root.mkdir()
    server = _Server(root)
    yield server
    server.close()

"""Suite-wide isolation: no test may touch $HOME, a hub, or the network beyond loopback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # Each xdist worker gets its own throwaway HOME and caches; nothing lands in the real $HOME.
    scratch = Path(tempfile.mkdtemp(prefix="sca-test-home-"))
    os.environ["HOME"] = str(scratch)
    os.environ.setdefault("SCA_CACHE_DIR", str(scratch / "sca-cache"))
    os.environ["HF_HOME"] = str(scratch / "hf")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("SCA_OFFLINE", "1")  # a file missing from the mirror must not reach for the internet
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    for secret in ("WANDB_API_KEY", "OPENAI_API_KEY", "HF_TOKEN"):
        os.environ.pop(secret, None)
    if not os.environ.get("SCA_DATA_DIR"):
        mirror = REPO.parent / "shared" / "data"
        if mirror.is_dir():
            os.environ["SCA_DATA_DIR"] = str(mirror)

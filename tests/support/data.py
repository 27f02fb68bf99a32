"""Benchmark data for tests: verified local files, or a skip that says how to get them (never a download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import data

_HOW = "set SCA_DATA_DIR to a mirror laid out like ../shared/data, or run `sca data verify --fetch`"


def fetch_or_skip(name: str, version: str | None = None, variant: str | None = None) -> Path:
    """data.fetch(...) when the mirror or cache has the file; otherwise skip the calling test."""
    item = data.entry(name, version, variant)
    if data.locate(item) is None:
        pytest.skip(f"no local copy of {item['path']}: {_HOW}")
    return data.fetch(name, version, variant)


def reference_or_skip(relpath: str) -> Path:
    """data.reference_path(...) when the mirror or cache has the file; otherwise skip the calling test."""
    item = data.reference_entry(relpath.removeprefix("reference-samples/"))
    if data.locate(item) is None:
        pytest.skip(f"no local copy of reference-samples/{relpath}: {_HOW}")
    return data.reference_path(relpath)

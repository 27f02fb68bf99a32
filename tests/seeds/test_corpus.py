"""Seed sources: the interpreter's own folders with licenses, local datasets, and one-line errors."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from generation.seeds import corpus
from harness.errors import UserError


def test_stdlib_files_are_listed_in_order_without_the_base_site_packages():
    files = corpus.list_files(["stdlib"], exclude=["test/*", "*/tests/*"])
    rels = [f.relpath for f in files]
    assert "json/decoder.py" in rels and "textwrap.py" in rels
    assert rels == sorted(rels)
    assert not any(r.startswith(("site-packages/", "test/")) or "/tests/" in r for r in rels)
    assert {f.license for f in files} == {"PSF-2.0"} and {f.source for f in files} == {"stdlib"}
    assert files[0].root == str(Path(sysconfig.get_paths()["stdlib"]).resolve())


def test_site_packages_files_carry_their_distributions_license():
    # datasketch and pydantic are pinned dependencies, both MIT-licensed.
    assert "MIT" in (corpus.site_license("datasketch/minhash.py") or "")
    assert "MIT" in (corpus.site_license("pydantic/main.py") or "")
    assert corpus.site_license("no_such_top_level_module/x.py") is None


def test_a_missing_path_or_column_is_one_line(tmp_path):
    with pytest.raises(UserError, match=r"seeds.paths: /nope: no such file or folder"):
        corpus.list_files(["/nope"])
    (tmp_path / "rows.jsonl").write_text('{"code": "x"}\n{"code": "y"}\n')
    ds = corpus.load_dataset(str(tmp_path / "rows.jsonl"), limit=1)
    assert len(ds) == 1
    with pytest.raises(UserError, match=r"seeds.content_column: column 'content' not in the dataset \(columns: code\)"):
        corpus.column(ds, "content", "content_column")


def test_hub_ids_go_through_datasets_and_fail_in_one_line_offline():
    with pytest.raises(UserError, match="seeds.dataset: cannot load 'bigcode/python-stack-v1-functions-filtered-sc2'"):
        corpus.load_dataset("bigcode/python-stack-v1-functions-filtered-sc2")


def test_streaming_needs_a_row_limit(tmp_path):
    with pytest.raises(UserError, match="max_files: required with streaming"):
        corpus.load_dataset(str(tmp_path / "rows.jsonl"), streaming=True)

"""The data layer against real files: the shared mirror, a real HTTP server on 127.0.0.1, file:// URLs."""

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import data
from harness.errors import UserError


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _write_lock(path: Path, datasets=None, references=None) -> Path:
    path.write_text(json.dumps({"datasets": datasets or {}, "references": references or {}}))
    return path


def _toy(tmp_path, server, body: bytes, urls=None, **extra):
    """A one-file lock whose only file is served by `server`."""
    (server.root / "toy.jsonl").write_bytes(body)
    item = {"path": "toy/toy-v1.jsonl", "sha256": _sha(body), "rows": body.count(b"\n"),
            "urls": urls or [f"{server.url}/toy.jsonl"], **extra}
    return _write_lock(tmp_path / "lock.json", {"toy": {"v1": {"default": item}}}), item


ROWS = b'{"task_id": "t/0", "x": 1}\n{"task_id": "t/1", "x": 2}\n'


# ------------------------------------------------------------------ the committed lock and the mirror


def test_lock_covers_every_mirror_file_and_all_verify(mirror):
    lock = data.load_lock()
    items = [*(i for vs in lock["datasets"].values() for v in vs.values() for i in v.values()),
             *lock["references"].values()]
    locked = {i["path"] for i in items}
    on_disk = {p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file() and p.name != "SOURCES.md"}
    assert on_disk - locked == set(), "files in the mirror that the lock does not pin"
    assert locked - on_disk == set(), "locked files missing from the mirror"
    for item in items:
        assert item["urls"] and all(u.startswith("https://") for u in item["urls"])
        assert data.file_sha256(mirror / item["path"]) == item["sha256"], item["path"]


def test_lock_has_the_versions_the_project_uses():
    lock = data.load_lock()["datasets"]
    assert list(lock["humanevalplus"]) == ["v0.1.10", "v0.1.9"]  # first = default
    assert set(lock["humanevalplus"]["v0.1.10"]) >= {"default", "mini", "noextreme"}
    assert list(lock["mbppplus"]) == ["v0.2.0", "v0.1.0"]
    assert set(lock["mbppplus"]["v0.2.0"]) >= {"default", "noextreme"}
    assert sum(name.startswith("evoeval_") for name in lock) == 7
    assert {"classeval", "cruxeval", "selfcodealign_fewshot"} <= set(lock)


def test_lock_urls_include_the_release_files_evalplus_itself_downloads():
    from evalplus.data.utils import get_dataset_metadata

    for name, upstream in (("humanevalplus", "HumanEvalPlus"), ("mbppplus", "MbppPlus")):
        for version, variants in data.load_lock()["datasets"][name].items():
            for variant in set(variants) & {"default", "mini", "noextreme"}:
                url, _ = get_dataset_metadata(upstream, version, mini=variant == "mini",
                                              noextreme=variant == "noextreme")
                assert url in variants[variant]["urls"], (name, version, variant)


def test_fetch_and_read_real_benchmarks(mirror):
    he = data.fetch("humanevalplus", "v0.1.10")
    assert he == mirror / "humanevalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"
    rows = data.read_jsonl(he)
    assert len(rows) == 164 and rows[0]["task_id"] == "HumanEval/0" and "plus_input" in rows[0]
    assert data.fetch("humanevalplus") == he  # default version
    mini = data.read_jsonl(data.fetch("humanevalplus", "v0.1.10", variant="mini"))
    assert [r["task_id"] for r in mini] == [r["task_id"] for r in rows]
    assert sum(len(r["plus_input"]) for r in mini) < sum(len(r["plus_input"]) for r in rows)
    assert len(data.read_jsonl(data.fetch("mbppplus", "v0.2.0"))) == 378
    assert len(data.read_jsonl(data.fetch("mbppplus", "v0.1.0"))) == 399
    assert len(data.read_jsonl(data.fetch("cruxeval"))) == 800
    assert len(data.read_json(data.fetch("classeval"))) == 100
    assert data.read_text(data.fetch("selfcodealign_fewshot")).startswith("### System: I->R\n")
    ref = data.reference_path("evalplus-pr247/humaneval--meta-llama--Meta-Llama-3-8B-Instruct_vllm_temp_0.0-"
                              "sanitized_eval_results.json")
    assert len(data.read_json(ref)["eval"]) == 164
    lcb = data.read_json(data.reference_path(
        "livecodebench/O1-Mini-2024-09-12_Scenario.codegeneration_1_0.2_eval_all.json.gz"))
    assert len(lcb) == 880  # gzip detected by magic bytes


def test_unknown_names_fail_with_did_you_mean():
    with pytest.raises(UserError, match=r"unknown dataset 'humanevalplsu' \(did you mean 'humanevalplus'\?\)"):
        data.fetch("humanevalplsu")
    with pytest.raises(UserError, match=r"dataset humanevalplus: unknown version 'v0.1.11'.*v0.1.10"):
        data.fetch("humanevalplus", "v0.1.11")
    with pytest.raises(UserError, match=r"unknown variant 'minni'.*'mini'"):
        data.fetch("humanevalplus", "v0.1.10", variant="minni")
    with pytest.raises(UserError, match=r"unknown reference file"):
        data.reference_path("evalplus-pr247/nope.json")


def test_mirror_mismatch_names_file_and_both_hashes(tmp_path, monkeypatch):
    item = data.entry("humanevalplus", "v0.1.10", "mini")
    bad = tmp_path / "mirror" / item["path"]
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"tampered")
    monkeypatch.setenv("SCA_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(data.DataError) as err:
        data.fetch("humanevalplus", "v0.1.10", variant="mini")
    msg = str(err.value)
    assert str(bad) in msg and item["sha256"] in msg and _sha(b"tampered") in msg
    assert bad.read_bytes() == b"tampered"  # never "repairs" the user's mirror


def test_data_dir_that_is_not_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(data.DataError, match=r"SCA_DATA_DIR=.*nope: not a directory"):
        data.fetch("cruxeval")


# ------------------------------------------------------------------ downloads (real server on 127.0.0.1)


def test_download_is_cached_verified_and_reused(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, item = _toy(tmp_path, http_server, ROWS)
    path = data.fetch("toy", lock=lock)
    assert path == tmp_path / "cache" / "data" / "toy" / "toy-v1.jsonl"
    assert data.read_jsonl(path) == [{"task_id": "t/0", "x": 1}, {"task_id": "t/1", "x": 2}]
    assert http_server.requests == ["/toy.jsonl"]
    http_server.close()  # the cache needs no network
    assert data.fetch("toy", "v1", lock=lock) == path
    assert [p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")] == ["toy-v1.jsonl"]


def test_mirror_wins_over_download(tmp_path, monkeypatch, http_server):
    lock, item = _toy(tmp_path, http_server, ROWS)
    local = tmp_path / "mirror" / item["path"]
    local.parent.mkdir(parents=True)
    local.write_bytes(ROWS)
    monkeypatch.setenv("SCA_DATA_DIR", str(tmp_path / "mirror"))
    assert data.fetch("toy", lock=lock) == local
    assert http_server.requests == []


def test_falls_back_to_the_next_url(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, _ = _toy(tmp_path, http_server, ROWS,
                   urls=[f"{http_server.url}/missing.jsonl", f"{http_server.url}/toy.jsonl"])
    assert data.read_jsonl(data.fetch("toy", lock=lock))[1]["x"] == 2
    assert http_server.requests == ["/missing.jsonl", "/toy.jsonl"]


def test_upstream_with_other_bytes_is_rejected_and_nothing_is_cached(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, item = _toy(tmp_path, http_server, ROWS)
    (http_server.root / "toy.jsonl").write_bytes(ROWS + b'{"task_id": "t/2"}\n')  # upstream changed
    with pytest.raises(data.DataError) as err:
        data.fetch("toy", lock=lock)
    msg = str(err.value)
    assert "toy.jsonl" in msg and item["sha256"] in msg and _sha(ROWS + b'{"task_id": "t/2"}\n') in msg
    cached = tmp_path / "cache" / "data" / "toy"
    assert not any(p.suffix == ".jsonl" or p.name.startswith(".download-") for p in cached.iterdir())


def test_corrupt_cache_is_downloaded_again(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, _ = _toy(tmp_path, http_server, ROWS)
    path = data.fetch("toy", lock=lock)
    path.write_bytes(b"bit rot")
    assert data.fetch("toy", lock=lock).read_bytes() == ROWS
    assert len(http_server.requests) == 2


def test_missing_everywhere_says_how_to_fix(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, _ = _toy(tmp_path, http_server, ROWS)
    http_server.close()  # connection refused
    with pytest.raises(data.DataError, match=r"toy/toy-v1.jsonl: download failed .*127\.0\.0\.1.*set SCA_DATA_DIR"):
        data.fetch("toy", lock=lock)
    monkeypatch.setenv("SCA_OFFLINE", "1")
    with pytest.raises(data.DataError, match=r"not in SCA_DATA_DIR \(unset\) nor in the cache .*SCA_OFFLINE"):
        data.fetch("toy", lock=lock)


def test_file_url_and_gzip_of_uncompressed_upstream(tmp_path, monkeypatch):
    """Where the mirror holds a gzip of an uncompressed upstream file, the download is checked and gzipped."""
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    upstream = tmp_path / "results.json"
    upstream.write_bytes(b'[{"pass@1": 0.5}]')
    staged = gzip.compress(upstream.read_bytes(), compresslevel=9, mtime=0)
    item = {"path": "ref/results.json.gz", "sha256": _sha(staged), "upstream_sha256": _sha(upstream.read_bytes()),
            "urls": [upstream.as_uri()]}
    lock = _write_lock(tmp_path / "lock.json", references={"ref/results.json.gz": item})
    path = data.reference_path("ref/results.json.gz", lock=lock)
    assert path.read_bytes() == staged and data.read_json(path) == [{"pass@1": 0.5}]


def test_real_lock_entries_download_from_a_local_upstream(tmp_path, monkeypatch, mirror, http_server):
    """The committed lock entries, served as their upstream bytes, download to the very files of the mirror."""
    lock = data.load_lock()
    picks = {"humanevalplus": lock["datasets"]["humanevalplus"]["v0.1.10"]["mini"],
             "lcb": lock["references"]["livecodebench/O1-Mini-2024-09-12_Scenario.codegeneration_1_0.2_eval_all.json.gz"]}
    for key, item in picks.items():
        raw = (mirror / item["path"]).read_bytes()
        (http_server.root / key).write_bytes(gzip.decompress(raw) if "upstream_sha256" in item else raw)
        item["urls"] = [f"{http_server.url}/{key}"]
    local = _write_lock(tmp_path / "lock.json", {"humanevalplus": {"v0.1.10": {"mini": picks["humanevalplus"]}}},
                        {"lcb.json.gz": picks["lcb"]})
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    he = data.fetch("humanevalplus", "v0.1.10", "mini", lock=local)
    lcb = data.reference_path("lcb.json.gz", lock=local)
    assert he.read_bytes() == (mirror / picks["humanevalplus"]["path"]).read_bytes()
    assert data._content_sha256(lcb) == picks["lcb"]["upstream_sha256"]
    assert len(data.read_json(lcb)) == 880


def test_concurrent_fetches_download_once(tmp_path, monkeypatch, http_server):
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    lock, _ = _toy(tmp_path, http_server, ROWS * 20000)  # ~1 MB, so the fetches overlap
    code = f"from harness import data; print(data.fetch('toy', lock={str(lock)!r}))"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
             for _ in range(3)]
    outs = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert outs == {str(tmp_path / "cache" / "data" / "toy" / "toy-v1.jsonl")}
    assert http_server.requests == ["/toy.jsonl"]


def test_read_jsonl_names_the_bad_line(tmp_path):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"a": 1}\n\n{"a": \n'))
    with pytest.raises(data.DataError, match=r"bad.jsonl.gz: line 3: invalid JSON"):
        data.read_jsonl(bad)


# ------------------------------------------------------------------ CLI


def _sca(*args, env=None):
    return subprocess.run([sys.executable, "-m", "harness.cli", "data", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_cli_fetch_verify_list(mirror):
    res = _sca("fetch", "mbppplus", "v0.2.0", "--variant", "noextreme")
    assert res.returncode == 0 and res.stdout.strip() == str(mirror / "mbppplus" / "MbppPlus-NoExtreme-v0.2.0.jsonl.gz")
    res = _sca("fetch", "evalplus-leaderboard/results.json")
    assert res.returncode == 0 and res.stdout.strip().endswith("reference-samples/evalplus-leaderboard/results.json")
    res = _sca("verify", "humanevalplus")
    assert res.returncode == 0 and res.stdout.count("ok ") == 5
    res = _sca("list")
    assert res.returncode == 0 and "humanevalplus v0.1.10 --variant mini" in res.stdout and "mirror" in res.stdout


def test_cli_errors_are_one_line(tmp_path):
    res = _sca("fetch", "humanevalplsu")
    assert res.returncode == 2 and res.stderr.strip() == (
        "sca data: error: data lock: unknown dataset 'humanevalplsu' (did you mean 'humanevalplus'?)")
    item = data.entry("cruxeval")
    bad = tmp_path / "mirror" / item["path"]
    bad.parent.mkdir(parents=True)
    bad.write_text("{}\n")
    res = _sca("verify", "cruxeval", env={"SCA_DATA_DIR": str(tmp_path / "mirror")})
    assert res.returncode == 1 and "MISMATCH" in res.stdout and item["sha256"] in res.stdout
    res = _sca("verify", "classeval", env={"SCA_DATA_DIR": str(tmp_path / "mirror"), "SCA_CACHE_DIR": str(tmp_path)})
    assert res.returncode == 1 and res.stdout.startswith("missing")


# ------------------------------------------------------------------ test helper for other suites


def test_support_helpers_skip_without_a_local_copy(tmp_path, monkeypatch, mirror):
    from tests.support.data import fetch_or_skip, reference_or_skip

    assert fetch_or_skip("mbppplus", "v0.1.0") == mirror / "mbppplus" / "MbppPlus-v0.1.0.jsonl.gz"
    assert reference_or_skip("evalplus-leaderboard/results.json").name == "results.json"
    monkeypatch.setenv("SCA_DATA_DIR", str(tmp_path))  # an empty mirror, and an empty cache
    with pytest.raises(pytest.skip.Exception, match=r"no local copy of mbppplus/MbppPlus-v0.1.0.jsonl.gz: set SCA_"):
        fetch_or_skip("mbppplus", "v0.1.0")
    with pytest.raises(pytest.skip.Exception, match=r"no local copy of reference-samples/evalplus-leaderboard"):
        reference_or_skip("evalplus-leaderboard/results.json")

"""Problem loading: the schema, private tests (JSON or pickled), releases through the hash lock, windows."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import zlib
from datetime import date
from pathlib import Path

import pytest

from benchmarks.livecodebench import dataset
from harness import data
from harness.errors import UserError
from tests.livecodebench.support import schema_rows, write_problems


def one_line(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ---------------------------------------------------------------------------------------------- private tests


def test_a_pickled_private_payload_decodes():
    tests = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
    encoded = dataset.encode_private(tests)
    assert json.loads(pickle.loads(zlib.decompress(base64.b64decode(encoded)))) == tests  # upstream's layout
    assert dataset.decode_tests(encoded, "here") == tests
    assert dataset.decode_tests(json.dumps(tests), "here") == tests


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _wrap(obj) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


@pytest.mark.parametrize("payload, why", [
    (["a", "list"], "it is a list"),
    (b'[{"input": "1"}]', "it is a bytes"),
    ({"json": "[]"}, "it is a dict"),
    (_Payload(), "it names posix.system"),
    (date(2024, 1, 1), "it names datetime.date"),
])
def test_a_payload_that_is_not_a_string_is_refused_in_one_line(payload, why, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as exc:
        dataset.decode_tests(_wrap(payload), "f.jsonl:3: q1: private_test_cases")
    text = one_line(exc)
    assert text.startswith("f.jsonl:3: q1: private_test_cases: pickled payload refused") and why in text
    assert not (tmp_path / "PWNED").exists()


def test_garbage_tests_fields_are_one_line_errors():
    with pytest.raises(UserError, match="neither JSON nor base64"):
        dataset.decode_tests("not json, not base64!", "here")
    with pytest.raises(UserError, match="test 0: testtype must be stdin or functional"):
        dataset.decode_tests(json.dumps([{"input": "", "output": "", "testtype": "call"}]), "here")


# ---------------------------------------------------------------------------------------------- schema


def test_project_problems_load_with_types_dates_and_tolerances(problems_file):
    ps = dataset.load(problems_file=problems_file)
    assert list(ps.problems) == [r["question_id"] for r in schema_rows()]
    pairs, avg, ratio, pin = (ps.problems[q] for q in ("lc_pairs", "cf_avg", "lc_ratio", "cf_pin"))
    assert (pairs.testtype, pairs.func_name, pairs.platform, pairs.difficulty) == ("functional", "pairSums", "leetcode",
                                                                                   "medium")
    assert pairs.contest_date == date(2024, 4, 13)
    assert [t.set for t in pairs.tests()] == ["public"] + ["private"] * 3  # private ones were pickled
    assert avg.tolerance == {"abs": 1e-6, "rel": 1e-6} and ratio.tolerance == {"abs": 1e-5, "rel": 0.0}
    assert pin.tolerance is None and pin.func_name is None
    assert ps.hash == dataset.load(problems_file=problems_file).hash and len(ps.hash) == 16


def test_tests_are_kept_only_for_the_problems_asked_for(problems_file):
    ps = dataset.load(problems_file=problems_file, tests_for={"cf_pin"})
    assert len(ps.problems) == 9 and len(ps.problems["cf_pin"].tests()) == 3
    with pytest.raises(RuntimeError, match="loaded without tests"):
        ps.problems["atc_sum"].tests()
    assert ps.hash == dataset.load(problems_file=problems_file, with_tests=False).hash


def _bad(tmp_path, edit) -> str:
    rows = schema_rows()
    edit(rows)
    path = write_problems(tmp_path / "bad.jsonl", rows)
    with pytest.raises(UserError) as exc:
        dataset.load(problems_file=path).problems["lc_pairs"].tests()
    return one_line(exc)


def test_schema_errors_name_the_file_line_and_field(tmp_path):
    where = f"{tmp_path / 'bad.jsonl'}:7"
    assert _bad(tmp_path, lambda r: r[6].pop("starter_code")).startswith(f"{where}: missing field 'starter_code'")
    msg = _bad(tmp_path, lambda r: r[6].update(metadata="{}"))
    assert msg.startswith(f"{where}: lc_pairs:") and "metadata.func_name" in msg
    assert "contest_date" in _bad(tmp_path, lambda r: r[6].update(contest_date="April 2024"))
    assert "appears twice" in _bad(tmp_path, lambda r: r.append(r[6]))
    mixed = json.dumps([{"input": "1", "output": "2", "testtype": "stdin"}])
    msg = _bad(tmp_path, lambda r: r[6].update(private_test_cases=mixed))
    assert "private_test_cases: test 0 is stdin, the problem's tests are functional" in msg


@pytest.mark.parametrize("text, tolerance", [
    ("Your output will be regarded as correct if the absolute or relative error from the true value is at most "
     "10^{-6}.", {"abs": 1e-6, "rel": 1e-6}),
    ("Your answer is considered correct if its absolute or relative error does not exceed $10^{-9}$.",
     {"abs": 1e-9, "rel": 1e-9}),
    ("The output is accepted if the absolute error is at most 10^{−4}.", {"abs": 1e-4, "rel": 0.0}),
    ("Answers within 10-5 of the actual answer will be accepted.", {"abs": 1e-5, "rel": 0.0}),
    ("Answers within 10^-5 of the actual value will be accepted.", {"abs": 1e-5, "rel": 0.0}),
    ("Print the answer modulo 998244353. 1 <= N <= 10^5.", None),
    ("Print it with an error of at most 1e-7 in absolute or relative terms.", None),
])
def test_tolerance_from_the_statement(text, tolerance):
    assert dataset.tolerance_from_statement(text) == tolerance


def test_metadata_tolerance_overrides_the_statement(tmp_path):
    rows = schema_rows()
    rows[2]["metadata"] = json.dumps({"tolerance": None})  # cf_avg's statement allows 1e-6
    rows[3]["metadata"] = json.dumps({"tolerance": {"abs": 0.5}})
    ps = dataset.load(problems_file=write_problems(tmp_path / "p.jsonl", rows))
    assert ps.problems["cf_avg"].tolerance is None
    assert ps.problems["cf_pin"].tolerance == {"abs": 0.5, "rel": 0.0}


# ---------------------------------------------------------------------------------------------- windows


def test_date_window_is_inclusive_on_contest_date(problems_file):
    ps = dataset.load(problems_file=problems_file, start_date=date(2024, 5, 11), end_date=date(2024, 9, 14))
    assert set(ps.problems) == {"atc_tri", "lc_flag", "cf_avg", "cf_pin"}
    assert len(ps.known) == 9 and ps.window["start_date"] == "2024-05-11"


def test_after_release_starts_the_day_after_the_registry_date(problems_file):
    # Llama 3 came out 2024-04-18: atc_sum (03-02) and lc_pairs (04-13) could have been seen.
    ps = dataset.load(problems_file=problems_file, after_release="meta-llama/Meta-Llama-3-8B")
    assert set(ps.problems) == {r["question_id"] for r in schema_rows()} - {"atc_sum", "lc_pairs"}
    assert dataset.window(after_release="Qwen/CodeQwen1.5-7B")[0] == date(2024, 4, 17)
    with pytest.raises(UserError, match="did you mean 'meta-llama/Meta-Llama-3-8B'"):
        dataset.window(after_release="meta-llama/Meta-Lama-3-8B")
    with pytest.raises(UserError, match="give one"):
        dataset.window(start_date=date(2024, 1, 1), after_release="meta-llama/Meta-Llama-3-8B")
    with pytest.raises(UserError, match="after --end-date"):
        dataset.window(start_date=date(2024, 2, 1), end_date=date(2024, 1, 1))


# ---------------------------------------------------------------------------------------------- releases


def test_release_tags_select_files():
    files = dataset.RELEASE_FILES
    assert dataset.release_files("release_v1") == ["test.jsonl"]
    assert dataset.release_files("release_v6") == list(files) == dataset.release_files("release_latest")
    assert dataset.release_files("v3") == ["test3.jsonl"]
    assert dataset.release_files("v2_v5") == ["test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl"]
    for bad, hint in (("release_v7", "did you mean"), ("v5_v2", "vA_vB"), ("relase_v3", "did you mean 'release_v3'")):
        with pytest.raises(UserError, match=hint):
            dataset.release_files(bad)


def test_the_release_lock_pins_six_files_at_one_revision():
    lock = data.load_lock(dataset.LOCK)["datasets"][dataset.LOCK_NAME][dataset.LOCK_VERSION]
    assert [f"{name}.jsonl" for name in lock] == list(dataset.RELEASE_FILES)
    assert sum(item["rows"] for item in lock.values()) == 1055  # release_v6
    assert [sum(item["rows"] for item in list(lock.values())[:k]) for k in (1, 5)] == [400, 880]
    for name, item in lock.items():
        assert len(item["sha256"]) == 64 and int(item["sha256"], 16) >= 0
        assert item["urls"] == [f"https://huggingface.co/datasets/{dataset.REPO_ID}/resolve/{dataset.REVISION}/"
                                f"{name}.jsonl"]
        assert item["path"] == f"livecodebench/code_generation_lite/{name}.jsonl"


def _small_release(tmp_path, monkeypatch) -> tuple[Path, bytes]:
    """A one-file release lock whose 'test.jsonl' is a few project problems (the real files are 4.5 GB)."""
    body = "".join(json.dumps(r) + "\n" for r in schema_rows()[:3]).encode()
    lock = json.loads(dataset.LOCK.read_text())
    item = lock["datasets"][dataset.LOCK_NAME][dataset.LOCK_VERSION]["test"]
    item.update(sha256=hashlib.sha256(body).hexdigest(), bytes=len(body), rows=3)
    lock["datasets"][dataset.LOCK_NAME][dataset.LOCK_VERSION] = {"test": item}
    path = tmp_path / "lock.json"
    path.write_text(json.dumps(lock))
    monkeypatch.setattr(dataset, "LOCK", path)
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SCA_DATA_DIR", raising=False)
    return path, body


def test_a_missing_release_file_offline_is_one_line(tmp_path, monkeypatch):
    _small_release(tmp_path, monkeypatch)
    monkeypatch.setenv("SCA_OFFLINE", "1")
    with pytest.raises(data.DataError) as exc:
        dataset.load("release_v1")
    assert "livecodebench/code_generation_lite/test.jsonl" in one_line(exc)


def test_release_files_come_from_the_hub_at_the_pinned_revision_and_are_verified(tmp_path, monkeypatch):
    """The Hub cannot be reached here: a stand-in for hf_hub_download writes the bytes the Hub would."""
    import huggingface_hub

    _, body = _small_release(tmp_path, monkeypatch)
    monkeypatch.setenv("SCA_OFFLINE", "0")
    calls = []

    def fake_download(repo_id, filename, *, repo_type, revision, local_dir):
        calls.append((repo_id, filename, repo_type, revision))
        target = Path(local_dir) / filename
        target.write_bytes(served)
        return str(target)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    served = body
    ps = dataset.load("release_v1", start_date=date(2024, 5, 1))
    assert calls == [(dataset.REPO_ID, "test.jsonl", "dataset", dataset.REVISION)]
    assert set(ps.problems) == {"atc_tri", "cf_avg"} and ps.files[0]["sha256"] == hashlib.sha256(body).hexdigest()
    dataset.load("release_v1")
    assert len(calls) == 1  # verified in the data cache: no second download

    (tmp_path / "cache" / "data" / "livecodebench" / "code_generation_lite" / "test.jsonl").unlink()
    served = body.replace(b"Sum of a list", b"Sum of a list!")
    with pytest.raises(data.DataError) as exc:
        dataset.load("release_v1")
    assert "sha256 mismatch" in one_line(exc)

"""The data layer: every benchmark, seed and reference file comes through here.

Each file is pinned by sha256 in `harness/data_lock.json`. A file is taken from the first source that has it:
1. an offline mirror at $SCA_DATA_DIR laid out like the lock's `path`s (tests and CI use ../shared/data);
2. the download cache ($SCA_CACHE_DIR, default ~/.cache/sca, under data/);
3. the upstream URLs in the lock, downloaded into the cache (unless $SCA_OFFLINE=1).
Whatever the source, the bytes are checked against the lock; a mismatch is a DataError naming both hashes.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import gzip
import hashlib
import http.client
import io
import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import UserError

LOCK_PATH = Path(__file__).with_name("data_lock.json")
DEFAULT_VARIANT = "default"
_CHUNK = 1 << 20


class DataError(UserError):
    """A data file is missing everywhere, or its bytes do not match the lock."""


# ---------------------------------------------------------------------------------------------- locations


def data_dir() -> Path | None:
    """The offline mirror ($SCA_DATA_DIR), or None when unset."""
    value = os.environ.get("SCA_DATA_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(f"SCA_DATA_DIR={value}: not a directory (unset it to download instead)")
    return path


def cache_dir() -> Path:
    """Where downloads go: $SCA_CACHE_DIR, else ~/.cache/sca."""
    value = os.environ.get("SCA_CACHE_DIR", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "sca"


def offline() -> bool:
    """Downloads are off ($SCA_OFFLINE=1): a file missing from the mirror and the cache is an error."""
    return os.environ.get("SCA_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


# ---------------------------------------------------------------------------------------------- the lock


def load_lock(lock: Path | None = None) -> dict[str, Any]:
    path = Path(lock) if lock is not None else LOCK_PATH
    try:
        # A copy, so a caller that edits an entry cannot change what later fetches verify against.
        return copy.deepcopy(_load_lock(str(path.resolve()), path.stat().st_mtime_ns))
    except FileNotFoundError:
        raise DataError(f"{path}: data lock file not found") from None


@lru_cache(maxsize=8)
def _load_lock(path: str, _mtime_ns: int) -> dict[str, Any]:
    try:
        lock = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    for key in ("datasets", "references"):
        if not isinstance(lock.get(key), dict):
            raise DataError(f"{path}: key '{key}' is missing or not an object")
    return lock


def _pick(kind: str, wanted: str, choices: dict[str, Any], where: str) -> Any:
    if wanted in choices:
        return choices[wanted]
    close = difflib.get_close_matches(wanted, list(choices), n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (choose from: {', '.join(choices)})"
    raise DataError(f"{where}: unknown {kind} '{wanted}'{hint}")


def entry(name: str, version: str | None = None, variant: str | None = None, *,
          lock: Path | None = None) -> dict[str, Any]:
    """The lock entry of one dataset file; version None = the dataset's default (first) version."""
    datasets = load_lock(lock)["datasets"]
    versions = _pick("dataset", name, datasets, "data lock")
    version = version or next(iter(versions))
    variants = _pick("version", version, versions, f"dataset {name}")
    return _pick("variant", variant or DEFAULT_VARIANT, variants, f"dataset {name} {version}")


def reference_entry(relpath: str, *, lock: Path | None = None) -> dict[str, Any]:
    return _pick("reference file", relpath, load_lock(lock)["references"], "reference-samples")


# ---------------------------------------------------------------------------------------------- fetching


def fetch(name: str, version: str | None = None, variant: str | None = None, *,
          lock: Path | None = None) -> Path:
    """Path of a verified dataset file, e.g. fetch("humanevalplus", "v0.1.10", variant="mini")."""
    return _resolve(entry(name, version, variant, lock=lock))


def reference_path(relpath: str, *, lock: Path | None = None) -> Path:
    """Path of a verified file under reference-samples/, e.g. "evalplus-pr247/<file>"."""
    relpath = relpath.removeprefix("reference-samples/")
    return _resolve(reference_entry(relpath, lock=lock))


def locate(item: dict[str, Any]) -> tuple[str, Path] | None:
    """Where a lock entry's file is now, without downloading: ("mirror"|"cache", path) or None."""
    mirror = data_dir()
    if mirror is not None and (mirror / item["path"]).is_file():
        return "mirror", mirror / item["path"]
    cached = cache_dir() / "data" / item["path"]
    if cached.is_file():
        return "cache", cached
    return None


def _resolve(item: dict[str, Any]) -> Path:
    found = locate(item)
    if found is not None:
        where, path = found
        actual = file_sha256(path)
        if _matches(path, actual, item):
            return path
        if where == "mirror":
            raise _mismatch(path, item["sha256"], actual, "fix the mirror, or delete the file to download it")
        # A corrupt cache entry is recoverable: _download replaces it.
    return _download(item)


def _matches(path: Path, actual: str, item: dict[str, Any]) -> bool:
    if actual == item["sha256"]:
        return True
    # The mirror gzips some uncompressed upstream files; another zlib may produce other gzip bytes.
    return "upstream_sha256" in item and _content_sha256(path) == item["upstream_sha256"]


def _mismatch(what: Path | str, expected: str, actual: str, fix: str) -> DataError:
    return DataError(f"{what}: sha256 mismatch: lock says {expected}, file has {actual} ({fix})")


def _download(item: dict[str, Any]) -> Path:
    from filelock import FileLock

    target = cache_dir() / "data" / item["path"]
    mirror = data_dir()
    if offline():
        where = f"SCA_DATA_DIR ({mirror / item['path']})" if mirror else "SCA_DATA_DIR (unset)"
        raise DataError(f"{item['path']}: not in {where} nor in the cache ({target}) and SCA_OFFLINE is set; "
                        f"point SCA_DATA_DIR at a mirror or unset SCA_OFFLINE to download {item['urls'][0]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if target.is_file() and _matches(target, file_sha256(target), item):
            return target  # another process fetched it while we waited
        expected = item.get("upstream_sha256", item["sha256"])
        failures, mismatches = [], []
        for url in item["urls"]:
            try:
                tmp, actual = _get(url, target.parent)
            except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            if actual != expected:
                tmp.unlink()
                mismatches.append(_mismatch(f"{item['path']} from {url}", expected, actual,
                                            "upstream changed; use a verified SCA_DATA_DIR mirror"))
                continue
            if "upstream_sha256" in item:
                _gzip_in_place(tmp)
            os.replace(tmp, target)
            return target
    if mismatches:
        raise mismatches[0]
    hint = f"set SCA_DATA_DIR to a mirror holding {item['path']}, or check your network"
    raise DataError(f"{item['path']}: download failed ({'; '.join(failures)}); {hint}")


def _get(url: str, folder: Path) -> tuple[Path, str]:
    """Stream url into a temp file in folder; return it and its sha256."""
    from tqdm import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "sca-data"})
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1][:40],
                      leave=False, disable=None) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), digest.hexdigest()


def _gzip_in_place(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


# sha256 of a file, memoised by (path, size, mtime) so repeated fetches do not rehash.
_hash_memo: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        _hash_memo[key] = digest.hexdigest()
    return _hash_memo[key]


def _content_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_binary(path) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- reading


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open a file, transparently decompressing gzip (detected by its magic bytes, not its name)."""
    f = Path(path).open("rb")
    if f.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def read_text(path: Path) -> str:
    with open_binary(path) as f:
        return f.read().decode("utf-8")


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None


def jsonl_lines(path: Path, decode_errors: str = "strict") -> Iterator[tuple[str, Any, str | None]]:
    """(`FILE:LINE`, parsed value or None, JSON error or None) for each non-blank line of a .jsonl(.gz).

    The one line reader: callers decide whether a bad line stops them or is reported and skipped.
    """
    with open_binary(path) as f:
        for lineno, line in enumerate(io.TextIOWrapper(f, encoding="utf-8", errors=decode_errors), 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{lineno}", json.loads(line), None
            except json.JSONDecodeError as exc:
                yield f"{path}:{lineno}", None, exc.msg


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for where, row, error in jsonl_lines(path):
        if error:
            file, _, lineno = where.rpartition(":")
            raise DataError(f"{file}: line {lineno}: invalid JSON ({error})")
        yield row


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All rows of a .jsonl or .jsonl.gz file."""
    return list(iter_jsonl(path))


# ---------------------------------------------------------------------------------------------- CLI


def _all_items(lock: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, entry) for every locked file; the label is what `sca data fetch` accepts."""
    for name, versions in lock["datasets"].items():
        for version, variants in versions.items():
            for variant, item in variants.items():
                label = f"{name} {version}" + ("" if variant == DEFAULT_VARIANT else f" --variant {variant}")
                yield label, item
    for relpath, item in lock["references"].items():
        yield relpath, item


def _select(names: list[str], lock: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    items = list(_all_items(lock))
    if not names:
        return items
    wanted = {n.removeprefix("reference-samples/") for n in names}
    for name in wanted:
        _pick("dataset or reference file", name, {**lock["datasets"], **lock["references"]}, "data lock")
    return [(label, item) for label, item in items if label.split()[0] in wanted]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list every locked file and where it is found")
    verify = sub.add_parser("verify", help="check local files (mirror or cache) against the lock")
    verify.add_argument("names", nargs="*", metavar="NAME", help="datasets or reference files (default: all)")
    verify.add_argument("--fetch", action="store_true", help="download what is missing")
    fetch_p = sub.add_parser("fetch", help="fetch one file (verified) and print its path")
    fetch_p.add_argument("name", help="dataset name, or a reference file such as evalplus-pr247/<file>")
    fetch_p.add_argument("version", nargs="?", help="dataset version (default: the current one)")
    fetch_p.add_argument("--variant", help="e.g. mini, noextreme, originfmt")


def main(args: argparse.Namespace) -> int:
    lock = load_lock()
    if args.action == "fetch":
        if "/" in args.name:  # dataset names never contain one; reference files always do
            print(reference_path(args.name))
        else:
            print(fetch(args.name, args.version, args.variant))
        return 0
    if args.action == "list":
        # Plain columns, never truncated: the first column is what `sca data fetch` takes.
        items = list(_all_items(lock))
        width = max(len(label) for label, _ in items)
        print(f"{'dataset / reference file':<{width}}  {'rows':>5}  {'sha256':<12}  found")
        for label, item in items:
            where = locate(item)
            print(f"{label:<{width}}  {item.get('rows') or '':>5}  {item['sha256'][:12]}  {where[0] if where else '-'}")
        return 0
    bad = 0
    for label, item in _select(args.names, lock):
        try:
            found = locate(item)
            if args.fetch:
                print(f"ok        {label}  {_resolve(item)}")
            elif found is None:
                bad += 1
                print(f"missing   {label}  ({item['path']}; --fetch downloads it)")
            elif not _matches(found[1], actual := file_sha256(found[1]), item):
                bad += 1
                print(f"MISMATCH  {label}  {found[1]}: lock says {item['sha256']}, file has {actual}")
            else:
                print(f"ok        {label}  {found[1]}")
        except DataError as exc:
            bad += 1
            print(f"FAILED    {label}  {exc}")
    return 1 if bad else 0

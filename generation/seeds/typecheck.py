"""Type-check seeds with Pyright in batches: one file per seed in a scratch project, 0 errors passes.

As the official pipeline, each batch is one Pyright run over a folder of files (250 by default),
so the type checker starts once per batch, not once per seed. We run basedpyright (PyPI, bundles
its own Node) in its `standard` mode, pyright's default, against the running interpreter's
environment so third-party imports resolve; `command` switches to the `pyright` wrapper or
another build. Only errors count, as the paper. Batches run `workers` at a time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.errors import UserError


def pyright_command() -> list[str]:
    """basedpyright next to the running interpreter, else on PATH, else the `pyright` wrapper."""
    beside = Path(sys.executable).parent / "basedpyright"
    if beside.is_file():
        return [str(beside)]
    for name in ("basedpyright", "pyright"):
        found = shutil.which(name)
        if found:
            return [found]
    raise UserError("seeds.typecheck: neither basedpyright nor pyright is installed "
                    "(pip install basedpyright, or set typecheck: false)")


def _check_batch(codes: Sequence[str], command: list[str], python: str, mode: str,
                 extra_paths: Sequence[str], timeout_s: float) -> list[tuple[int, str | None]]:
    with tempfile.TemporaryDirectory(prefix="sca-pyright-") as tmp:
        root = Path(tmp)
        names = [f"seed_{i:05d}.py" for i in range(len(codes))]
        for name, code in zip(names, codes):
            (root / name).write_text(code, encoding="utf-8")
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        (root / "pyrightconfig.json").write_text(json.dumps(
            {"typeCheckingMode": mode, "pythonVersion": version, "extraPaths": list(extra_paths)}))
        try:
            done = subprocess.run([*command, "--outputjson", "--pythonpath", python, *names], cwd=root,
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"pyright: a batch of {len(codes)} seeds took over {timeout_s:.0f}s "
                               f"(lower typecheck_batch or raise typecheck_timeout_s)") from None
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"pyright exited {done.returncode} without a JSON report: {' | '.join(tail)}") from None
        errors: dict[str, list[str]] = {}
        for diag in report.get("generalDiagnostics", []):
            if diag.get("severity") == "error":
                line = diag.get("range", {}).get("start", {}).get("line", -1) + 1
                errors.setdefault(Path(diag["file"]).name, []).append(
                    f"{line}: {diag.get('message', '').splitlines()[0]} ({diag.get('rule', 'error')})")
    return [(len(errors.get(n, [])), (errors.get(n) or [None])[0]) for n in names]


def typecheck(codes: Sequence[str], *, batch_size: int = 250, workers: int = 2, python: str | None = None,
              mode: str = "standard", extra_paths: Sequence[str] = (), timeout_s: float = 600,
              command: list[str] | None = None) -> list[tuple[int, str | None]]:
    """(error count, first error) per code, in order."""
    if not codes:
        return []
    cmd = command or pyright_command()
    # Equal batches, at least one per worker: Pyright's start-up is paid per batch, in parallel.
    count = max(-(-len(codes) // batch_size), min(max(1, workers), len(codes)))
    size = -(-len(codes) // count)
    batches = [codes[i:i + size] for i in range(0, len(codes), size)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda b: _check_batch(b, cmd, python or sys.executable, mode, extra_paths, timeout_s),
                           batches)
        return [r for batch in results for r in batch]

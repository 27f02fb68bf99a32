"""gguf_export: an HF folder back into the GGUF llama.cpp serves, with the template's metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.errors import UserError
from tests.pipeline.tiny_gguf import get_tiny_gguf
from tests.support.tiny_model import get_tiny_model
from training.gguf_export import export_gguf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    model = get_tiny_model(tmp_path_factory)
    return model, get_tiny_gguf(tmp_path_factory, model) / "tiny.gguf"


def tensors(path: Path) -> dict:
    import gguf

    return {t.name: np.array(t.data) for t in gguf.GGUFReader(str(path)).tensors}


def test_round_trip_gives_the_templates_tensors(tiny, tmp_path):
    model, template = tiny
    info = export_gguf(model, template, tmp_path / "out.gguf")
    ours, theirs = tensors(tmp_path / "out.gguf"), tensors(template)
    assert set(ours) == set(theirs) and info["tensors"] == len(theirs)
    assert all(np.array_equal(ours[n], theirs[n]) for n in theirs)


def test_trained_weights_reach_the_file_in_llama_cpp_layout(tiny, tmp_path):
    """A change to one HF q_proj row shows up permuted (llama.cpp's rotary layout), every other tensor as was."""
    from safetensors.numpy import load_file, save_file

    model, template = tiny
    changed = tmp_path / "trained"
    shutil.copytree(model, changed)
    weights = load_file(str(changed / "model.safetensors"))
    weights["model.layers.0.self_attn.q_proj.weight"] = weights["model.layers.0.self_attn.q_proj.weight"].copy()
    weights["model.layers.0.self_attn.q_proj.weight"][1] += 0.5  # row 1: the second rotary half's first row
    save_file(weights, str(changed / "model.safetensors"), metadata={"format": "pt"})
    export_gguf(changed, template, tmp_path / "out.gguf")
    ours, theirs = tensors(tmp_path / "out.gguf"), tensors(template)
    moved = [n for n in theirs if not np.array_equal(ours[n], theirs[n])]
    assert moved == ["blk.0.attn_q.weight"]
    rows = np.nonzero(np.any(ours[moved[0]] != theirs[moved[0]], axis=1))[0].tolist()
    assert rows == [2]  # HF keeps head 0's rotary halves apart (row 1 = first half, pair 1); llama.cpp interleaves


def test_served_by_llama_cpp(tiny, tmp_path):
    from generation.backends import GenerationRequest, get_backend

    model, template = tiny
    export_gguf(model, template, tmp_path / "gguf" / "model.gguf")
    with get_backend("llamacpp", model=str(tmp_path), cache=tmp_path / "cache.sqlite", progress=False,
                     parallel=1) as backend:
        (out,), = backend.generate([GenerationRequest(prompt="def add(a, b):", max_new_tokens=8, temperature=0.0)])
    assert out.completion_tokens and out.text


def test_a_model_that_does_not_fit_the_template_is_one_line(tiny, tmp_path):
    model, template = tiny
    broken = tmp_path / "broken"
    shutil.copytree(model, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(UserError, match="no .safetensors weights"):
        export_gguf(broken, template, tmp_path / "out.gguf")

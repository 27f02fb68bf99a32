"""What SFT sends to the stage's W&B run: TRL's logs under HF's `train/` names, plus tokens/s and padding.

transformers' own WandbCallback is left off (report_to="none"): our callback logs through the stage's
tracking run, so TRL's metrics and the stage's land in the same W&B run and in the artifact's
metrics.jsonl mirror, on every backend (offline, online, disabled) alike.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback
from trl.trainer.sft_trainer import SFTTrainer

Report = Callable[[dict], None]


class MeteredSFTTrainer(SFTTrainer):
    """TRL's SFTTrainer, also counting the positions and the padding of the batches it trains on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._positions = 0
        self._real: Any = 0  # a device tensor once counting starts: no host sync per step

    def training_step(self, model, inputs, *args, **kwargs):
        mask = inputs.get("attention_mask")
        if mask is not None:
            self._positions += mask.numel()
            self._real = self._real + mask.sum()
        return super().training_step(model, inputs, *args, **kwargs)

    def take_padding_ratio(self) -> float | None:
        """Share of padded positions since the last call (this process's batches)."""
        if not self._positions:
            return None
        real = float(self._real.item() if hasattr(self._real, "item") else self._real)
        ratio = 1.0 - real / self._positions
        self._positions, self._real = 0, 0
        return ratio


def rename(key: str) -> str:
    """HF's W&B naming: eval_x -> eval/x, everything else -> train/x."""
    return f"eval/{key[5:]}" if key.startswith("eval_") else f"train/{key}"


class TrackingCallback(TrainerCallback):
    """Forwards each TRL log to `report`, with tokens/s since the previous log and the padding ratio."""

    def __init__(self, trainer: MeteredSFTTrainer, report: Report):
        self.trainer = trainer
        self.report = report
        self._tokens = 0.0
        self._time = time.perf_counter()

    def on_train_begin(self, args, state, control, **kwargs):
        self._tokens, self._time = 0.0, time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        now = time.perf_counter()
        out = {rename(k): v for k, v in logs.items()}
        out["train/global_step"] = state.global_step
        tokens = logs.get("num_tokens")
        if tokens is not None and now > self._time:
            out["train/tokens_per_second"] = (tokens - self._tokens) / (now - self._time)
            self._tokens, self._time = tokens, now
        ratio = self.trainer.take_padding_ratio()
        if ratio is not None:
            out["train/padding_ratio"] = ratio
        self.report(out)


def epoch_losses(log_history: list[dict]) -> list[float]:
    """Mean logged training loss of each epoch (1-based epochs, from each log's fractional epoch)."""
    sums: dict[int, list[float]] = {}
    for row in log_history:
        if "loss" in row and "epoch" in row:
            sums.setdefault(max(1, math.ceil(row["epoch"] - 1e-9)), []).append(float(row["loss"]))
    return [sum(v) / len(v) for _, v in sorted(sums.items())]


def plot_loss(log_history: list[dict], path: Path) -> Path | None:
    """Training loss (and learning rate) by optimizer step, as a PNG; None when nothing was logged."""
    rows = [r for r in log_history if "loss" in r and "step" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], marker="o", ms=3, label="loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    lr = [(r["step"], r["learning_rate"]) for r in rows if "learning_rate" in r]
    if lr:
        twin = ax.twinx()
        twin.plot(*zip(*lr), color="tab:orange", alpha=0.6, label="learning rate")
        twin.set_ylabel("learning rate")
    ax.set_title("SFT training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

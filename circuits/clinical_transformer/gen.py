"""Clinical transformer: 30-day readmission risk from a patient's last 32
coded events (a generated task the tests can regenerate). Each event is one
of 32 codes (diagnoses, procedures, medications; code 0 pads a short
history). A stay is high risk when a high-risk code (3, 7 or 11) occurs among
the last 8 events, or at least three chronic-condition codes (20-23) occur
anywhere, or an antibiotic (code 14) is followed later by a fever (code 15):
rules that need attention over positions, order and counts.

The model is a PyTorch encoder exported to ONNX as a vendor would: a code
embedding plus a learned position table, 2 post-norm encoder layers (4
heads, width 64, ReLU feed-forward of 128), mean over the sequence, a linear
head with two logits [low risk, high risk]: 71,170 parameters (the
compiled circuit commits 119,988 values). Float test accuracy 99.1 % on
2,000 generated stays (23 % high risk).

Needs PyTorch (CPU build) in the environment that runs this script only:
`pip install torch` (on the project's machines the wheel lies on disk:
`pip install torch==2.13.0`). zkaudit itself never imports it. Exported with
torch's TorchScript-based exporter (`dynamo=False`, opset 17): the graph a
`torch.onnx.export` of an nn.TransformerEncoder writes.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import IR_VERSION, N_TEST, write_folder  # noqa: E402

SEQ, VOCAB, WIDTH, HEADS, LAYERS = 32, 32, 64, 4, 2
HIGH_RISK, CHRONIC, ANTIBIOTIC, FEVER = (3, 7, 11), (20, 21, 22, 23), 14, 15


def generate(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 32) int64, labels (n,)): histories with a random number of
    leading pads; three codes in four are drawn from the codes no rule
    names, so about a quarter of the stays are high risk."""
    x = rng.integers(1, VOCAB, size=(n, SEQ))
    common = np.setdiff1d(np.arange(1, VOCAB), HIGH_RISK + CHRONIC + (ANTIBIOTIC, FEVER))
    x = np.where(rng.random((n, SEQ)) < 0.75, rng.choice(common, size=(n, SEQ)), x)
    pads = rng.integers(0, SEQ // 2, size=n)
    x[np.arange(SEQ)[None, :] < pads[:, None]] = 0
    return x.astype(np.int64), label(x)


def label(x: np.ndarray) -> np.ndarray:
    recent = np.isin(x[:, -8:], HIGH_RISK).any(axis=1)
    chronic = np.isin(x, CHRONIC).sum(axis=1) >= 3
    pos = np.arange(SEQ)[None, :]
    first_ab = np.where(x == ANTIBIOTIC, pos, SEQ).min(axis=1)
    fever_after = ((x == FEVER) & (pos > first_ab[:, None])).any(axis=1)
    return (recent | chronic | fever_after).astype(np.int64)


def train():
    import torch
    from torch import nn

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xtr, ytr = generate(12_000, rng)
    xte, yte = generate(2_000, rng)
    print("high-risk share", ytr.mean())

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Parameter(torch.randn(1, SEQ, WIDTH) * 0.1)
            layer = nn.TransformerEncoderLayer(WIDTH, HEADS, dim_feedforward=2 * WIDTH, dropout=0.0,
                                               batch_first=True)
            self.enc = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.head = nn.Linear(WIDTH, 2)

        def forward(self, ids):
            return self.head(self.enc(self.embed(ids) + self.pos).mean(dim=1))

    model = Encoder()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1500)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for step in range(1500):
        idx = torch.from_numpy(rng.integers(0, len(xtr), 128))
        loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(-1).numpy() == yte).mean()
    print("test accuracy", acc)
    return model, xtr, xte, yte, float(acc)


def export(model, path: Path) -> None:
    import onnx
    import torch

    torch.onnx.export(model, (torch.zeros(1, SEQ, dtype=torch.int64),), str(path), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)
    m = onnx.load(path)
    m.ir_version = IR_VERSION
    m.graph.name = "clinical_transformer"
    onnx.save(m, path)


def main():
    import onnx

    model, xtr, xte, yte, acc = train()
    folder = Path(__file__).parent
    export(model, folder / "model.onnx")
    doc = write_folder(folder, onnx.load(folder / "model.onnx"), xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       f"x: the last 32 event codes (0 pads); y: logits [low, high] readmission risk; "
                       f"float test accuracy {acc:.2%} (2,000 generated stays)")
    print("clinical_transformer", doc["parameters"], "params", doc["fidelity"])


if __name__ == "__main__":
    main()

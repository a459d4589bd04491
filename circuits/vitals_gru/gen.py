"""Vitals GRU: deterioration within the next hours from a patient's last 24
hourly vital-sign readings (a generated task the tests can regenerate).

Each hour holds six standardized vitals: heart rate, respiratory rate, SpO2,
temperature, systolic blood pressure and a consciousness score. A stable
patient's vitals wander around their own baseline, with single-hour artefacts
(a probe slipping off, a patient moving) that return to baseline the next
hour. A deteriorating patient's vitals start drifting at some hour and keep
drifting: heart and respiratory rate up, SpO2 and blood pressure down, fever
in half of them. The label needs order and persistence, not one reading: a
one-hour spike as large as the drift's end point is not deterioration.

The model is a PyTorch GRU exported to ONNX as a vendor would: nn.GRU(6, 32)
over the 24 hours, the last hidden state into a linear head with two logits
[stable, deteriorating]: 3,906 parameters. The export is ONNX's GRU op
(linear_before_reset = 1), which zkaudit unrolls over the fixed sequence.

Needs PyTorch (CPU build) in the environment that runs this script only:
`pip install torch` (on the project's machines the wheel lies on disk:
`pip install torch==2.13.0`). zkaudit itself never imports it. Exported with
torch's TorchScript-based exporter (`dynamo=False`, opset 17).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import IR_VERSION, N_TEST, write_folder  # noqa: E402

HOURS, VITALS, HIDDEN = 24, 6, 32
# per-vital drift direction of a deteriorating patient (standardized units per hour)
DRIFT = np.array([0.22, 0.20, -0.20, 0.0, -0.18, -0.08])


def generate(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(vitals (n, 24, 6) float32, labels (n,)): a third of the patients
    deteriorate from an onset between hour 6 and hour 20."""
    y = (rng.random(n) < 1 / 3).astype(np.int64)
    base = rng.normal(0.0, 0.5, size=(n, 1, VITALS))
    walk = np.cumsum(rng.normal(0.0, 0.08, size=(n, HOURS, VITALS)), axis=1)
    x = base + walk + rng.normal(0.0, 0.15, size=(n, HOURS, VITALS))
    onset = rng.integers(6, 21, size=n)
    hours_in = np.clip(np.arange(HOURS)[None, :] - onset[:, None], 0, None)  # (n, 24)
    fever = np.where(rng.random(n) < 0.5, 0.15, 0.0)
    drift = DRIFT[None, :] * rng.uniform(0.7, 1.3, size=(n, 1))
    drift = np.concatenate([drift[:, :3], fever[:, None], drift[:, 4:]], axis=1)
    x += y[:, None, None] * hours_in[:, :, None] * drift[:, None, :]
    # single-hour artefacts in everyone, as large as a drift's end point
    spikes = rng.random((n, HOURS)) < 0.06
    size = rng.normal(0.0, 1.2, size=(n, HOURS, VITALS)) * (DRIFT != 0)
    x += spikes[:, :, None] * size
    return x.astype(np.float32), y


def train():
    import torch
    from torch import nn

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xtr, ytr = generate(12_000, rng)
    xte, yte = generate(2_000, rng)
    print("deteriorating share", ytr.mean())

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(VITALS, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, 2)

        def forward(self, x):
            _, h = self.gru(x)
            return self.head(h[0])

    model = Net()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1500)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for _ in range(1500):
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

    torch.onnx.export(model, (torch.zeros(1, HOURS, VITALS),), str(path), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)
    m = onnx.load(path)
    m.ir_version = IR_VERSION
    m.graph.name = "vitals_gru"
    onnx.save(m, path)


def main():
    import onnx

    model, xtr, xte, yte, acc = train()
    folder = Path(__file__).parent
    export(model, folder / "model.onnx")
    doc = write_folder(folder, onnx.load(folder / "model.onnx"), xtr[:256], xte[:N_TEST], yte[:N_TEST],
                       f"x: 24 hourly readings of 6 standardized vitals (HR, RR, SpO2, temp, SBP, "
                       f"consciousness); y: logits [stable, deteriorating]; float test accuracy {acc:.2%} "
                       f"(2,000 generated patients)")
    print("vitals_gru", doc["parameters"], "params", doc["fidelity"])


if __name__ == "__main__":
    main()

"""A training run on disk: init (before the coin), coin, train, check.

    RUN/run.json            public: the TrainingRun record (signed by nobody yet; the registry
                            will log it) -- policy, dataset record digest, tape commitment c_R,
                            the auditor key that will sign the coin, the table digests.
                            run_id = its canonical digest.
    RUN/policy.json         public: the policy, canonical
    RUN/dataset.json        public: the dataset's signed record (copied)
    RUN/private/tape.npz    secret: the tape R and its salt (mode 0600; never publish)
    RUN/private/run.json    private: where the dataset (and its opening) lives
    RUN/coin.json           public, after `coin sign`: the auditor's signature over run_id
    RUN/result.json         after training: theta_T, accuracy, the privacy report, the files
    RUN/private/trace.npz   secret: the witness (every step's words, draws, gradients, noise)
    RUN/model.onnx, RUN/model_int8.onnx   the trained float and quantized models

The order is the protection: c_R is fixed in run.json before the coin, the
coin signs run_id (hence c_R), and the mask depends on the coin; a tape
chosen after the coin changes run_id and voids the coin."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkaudit.data.canonical import digest
from zkaudit.data.schema import Schema
from zkaudit.field.constants import P as FIELD_P
from zkaudit.train import randomness, tables
from zkaudit.train.errors import CoinRejected, RunRejected, TrainingError
from zkaudit.train.policy import Policy
from zkaudit.train.tape import SCHEME as TAPE_SCHEME
from zkaudit.train.tape import TapeShape
from zkaudit.train.trainer import Semantics, Trace, check_widths

RUN_TYPE = "training-run/v1"
COIN_TYPE = "coin/v1"
RESULT_SCHEMA = "zkaudit.train-result/1"


# --- the dataset -------------------------------------------------------------
@dataclass(frozen=True)
class TrainingData:
    record_digest: bytes
    X: np.ndarray  # (N, d_in) int64 at Q_f
    y: np.ndarray  # (N,) 0/1
    feature_abs_max: np.ndarray  # declared bound per feature (Q_f integers)


def _signed(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.uint64)
    half = np.uint64(FIELD_P // 2)
    return np.where(v > half, -((np.uint64(FIELD_P) - v).astype(np.int64)), v.astype(np.int64))


def training_data(policy: Policy, dataset_dir: Path) -> TrainingData:
    """The policy's feature and label columns of a sealed dataset, checked
    against the policy (types, scales, widths); needs the private opening."""
    from zkaudit.data.dataset import load_dataset

    record, _, opening = load_dataset(Path(dataset_dir), with_opening=True)
    opening.prover_data(record)  # the opening is the committed data
    bound = dataset_bounds(policy, record.schema, where=f"dataset {dataset_dir}")
    names = record.schema.polynomial_names()
    n = record.num_rows
    X = np.stack([_signed(opening.polys[names.index(f), :n]) for f in policy.features], axis=1)
    y = _signed(opening.polys[names.index(policy.label), :n])
    return TrainingData(record.digest, X, y, bound)


def dataset_bounds(policy: Policy, schema: Schema, *, where: str = "dataset") -> np.ndarray:
    """The policy's columns in the dataset's schema: features fixed at scale
    feature_bits, a 0/1 label, and declared ranges narrow enough that no
    integer of the semantics (or the training proof's relation) reaches 2^62
    (`check_widths`). Returns each feature's largest |x| (Q_f integers).
    Raises TrainingError listing every problem. The trainer and the training
    verifier both call it: the proof's no-wrap argument rests on these ranges,
    which the custodian's commit enforced on the data."""
    cols = {c.name: c for c in schema.columns}
    problems = []
    for f in policy.features:
        c = cols.get(f)
        if c is None:
            problems.append(f"feature {f!r} is not a column of the dataset")
        elif c.type != "fixed" or c.scale != policy.feature_bits:
            problems.append(f"feature {f!r} must be a fixed column with scale {policy.feature_bits} (feature_bits), "
                            f"got {c.type}" + (f" scale {c.scale}" if c.type == "fixed" else ""))
    lab = cols.get(policy.label)
    if lab is None:
        problems.append(f"label {policy.label!r} is not a column of the dataset")
    elif not (lab.type == "bool" or (lab.type == "int" and lab.min >= 0 and lab.max <= 1)):
        problems.append(f"label {policy.label!r} must be a bool column (0/1), got {lab.type}")
    if problems:
        raise TrainingError(f"{where} does not fit the policy: " + "; ".join(problems))
    bound = np.array([int(max(abs(cols[f].min), abs(cols[f].max)) * (1 << policy.feature_bits))
                      for f in policy.features], dtype=np.int64)
    check_widths(policy, bound)
    return bound


# --- files ---------------------------------------------------------------------
def _write_json(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _read_json(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrainingError(f"{path} not found: is this a run directory made by `zkaudit train init`?") from None
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot read {what} {path}: {exc}") from None


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _npz(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def table_digests(policy: Policy, num_rows: int) -> dict:
    sem = Semantics.of(policy, num_rows)
    return {"noise": sem.noise_table.digest.hex(), "noise_std": sem.noise_std, "noise_entries": sem.noise_table.size,
            "gaps": sem.gap_table.digest.hex(), "gap_entries": sem.gap_table.size,
            "sigmoid": tables.sigmoid_digest(sem.sigmoid, policy.sigmoid_input_bits, policy.weight_bits,
                                             policy.sigmoid_input_limit).hex()}


def run_record(policy: Policy, data: TrainingData, tape_commitment: bytes, auditor_public_key: bytes) -> dict:
    return {"type": RUN_TYPE, "policy_digest": policy.digest.hex(), "dataset_record_digest": data.record_digest.hex(),
            "num_rows": int(len(data.X)),
            "tape": {"scheme": TAPE_SCHEME, "words": policy.tape_words, "commitment": tape_commitment.hex()},
            "coin_source": {"kind": "bls-auditor", "scheme": "bls12-381-g2-pop",
                            "public_key": bytes(auditor_public_key).hex()},
            "tables": table_digests(policy, len(data.X))}


def init_run(policy: Policy, dataset_dir: Path, out: Path, auditor_public_key: bytes, *,
             rng: np.random.Generator | None = None) -> dict:
    """Create RUN/: draw and commit the tape, write the run record. All or nothing.
    `rng` only for reproducible tests (the tape must come from the OS otherwise)."""
    out, dataset_dir = Path(out), Path(dataset_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingError(f"{out} exists and is not an empty directory; choose another --out")
    if len(auditor_public_key) != randomness.PUBKEY_LEN:
        raise TrainingError(f"the auditor's public key must be {randomness.PUBKEY_LEN} bytes "
                            f"({2 * randomness.PUBKEY_LEN} hex digits), got {len(auditor_public_key)}")
    data = training_data(policy, dataset_dir)
    from zkaudit.data.dataset import load_dataset

    if not load_dataset(dataset_dir)[0].training_commitments:
        raise TrainingError(f"dataset {dataset_dir} has no training commitments: no training proof could open it "
                            "without revealing the data its consent proof's commitment hides",
                            hint="the custodian re-commits with `zkaudit data commit --training-uses K`")
    tape = randomness.Tape.generate(policy.tape_words, rng)
    record = run_record(policy, data, tape.commitment(TapeShape.of(policy)), auditor_public_key)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists() else None))
    try:
        (tmp / "policy.json").write_bytes(policy.canonical_bytes() + b"\n")
        shutil.copyfile(dataset_dir / "dataset.json", tmp / "dataset.json")
        _write_json(tmp / "run.json", record)
        _write_private(tmp / "private" / "tape.npz", _npz(words=tape.words, salt=np.frombuffer(tape.salt, np.uint8)))
        _write_private(tmp / "private" / "run.json",
                       json.dumps({"dataset_dir": str(dataset_dir.resolve())}, indent=1).encode() + b"\n")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


@dataclass(frozen=True)
class Run:
    """A run directory, loaded and consistent with itself."""

    path: Path
    policy: Policy
    record: dict

    @property
    def run_id(self) -> bytes:
        return digest(self.record)

    @property
    def tape_commitment(self) -> bytes:
        return bytes.fromhex(self.record["tape"]["commitment"])

    @property
    def auditor_public_key(self) -> bytes:
        return bytes.fromhex(self.record["coin_source"]["public_key"])

    def tape(self) -> randomness.Tape:
        path = self.path / "private" / "tape.npz"
        if not path.is_file():
            raise TrainingError(f"{path} not found: training needs the run's secret tape")
        with np.load(path, allow_pickle=False) as z:
            return randomness.Tape(z["words"].astype(np.uint64), z["salt"].tobytes())

    def dataset_dir(self, override: Path | None = None) -> Path:
        if override is not None:
            return Path(override)
        return Path(_read_json(self.path / "private" / "run.json", "private run file")["dataset_dir"])


_HEX64 = re.compile(r"[0-9a-f]{64}")


def parse_run_record(record, policy: Policy, where: str = "run record") -> None:
    """Strict shape of a training-run/v1 record (keys, types, lengths, the tape
    length the policy fixes); RunRejected naming the first problem."""
    def need(cond: bool, what: str, expected=None, got=None):
        if not cond:
            raise RunRejected(f"{where}: {what}", where="run", expected=expected, got=got)

    keys = {"type", "policy_digest", "dataset_record_digest", "num_rows", "tape", "coin_source", "tables"}
    need(set(record) == keys, "wrong keys", sorted(keys), sorted(record))
    for k in ("policy_digest", "dataset_record_digest"):
        need(isinstance(record[k], str) and bool(_HEX64.fullmatch(record[k])), f"{k} is not 64 hex digits")
    need(isinstance(record["num_rows"], int) and not isinstance(record["num_rows"], bool) and record["num_rows"] > 0,
         "num_rows is not a positive integer")
    tape = record["tape"]
    need(isinstance(tape, dict) and set(tape) == {"scheme", "words", "commitment"}, "tape: wrong keys")
    need(tape["scheme"] == TAPE_SCHEME, "tape.scheme", TAPE_SCHEME, tape["scheme"])
    need(tape["words"] == policy.tape_words, "tape.words is not the policy's T (B_max + 1 + d)", policy.tape_words,
         tape["words"])
    need(isinstance(tape["commitment"], str) and bool(_HEX64.fullmatch(tape["commitment"])),
         "tape.commitment is not 64 hex digits")
    coin = record["coin_source"]
    need(isinstance(coin, dict) and set(coin) == {"kind", "scheme", "public_key"}, "coin_source: wrong keys")
    need(coin["kind"] == "bls-auditor" and coin["scheme"] == "bls12-381-g2-pop", "coin_source: unknown kind/scheme")
    need(isinstance(coin["public_key"], str) and re.fullmatch(r"[0-9a-f]{96}", coin["public_key"]) is not None,
         "coin_source.public_key is not 96 hex digits")
    need(isinstance(record["tables"], dict), "tables is not an object")


def load_run(path: Path) -> Run:
    path = Path(path)
    if not path.is_dir():
        raise TrainingError(f"run directory {path} not found (create it with `zkaudit train init`)")
    record = _read_json(path / "run.json", "run record")
    policy = Policy.from_json(_read_json(path / "policy.json", "policy"))
    if not isinstance(record, dict) or record.get("type") != RUN_TYPE:
        raise TrainingError(f"{path / 'run.json'} is not a {RUN_TYPE} record")
    parse_run_record(record, policy, str(path / "run.json"))
    if record.get("policy_digest") != policy.digest.hex():
        raise RunRejected("the run record names another policy than policy.json", where="run",
                          expected=record.get("policy_digest"), got=policy.digest.hex())
    return Run(path, policy, record)


def sign_coin_file(run: Run, secret_key: int, signer: str) -> dict:
    """The auditor's coin over this run (BLS signatures are unique: signing twice gives the same coin)."""
    if randomness.public_key(secret_key) != run.auditor_public_key:
        raise TrainingError("this key is not the auditor key the run record names; the run was registered for "
                            f"public key {run.auditor_public_key.hex()[:16]}...")
    sig = randomness.sign_coin(secret_key, run.run_id)
    return {"type": COIN_TYPE, "run_id": run.run_id.hex(), "signer": signer,
            "public_key": run.auditor_public_key.hex(), "signature": sig.hex(),
            "coin": randomness.coin_value(sig).hex()}


def read_coin(path: Path) -> dict:
    doc = _read_json(Path(path), "coin")
    if not isinstance(doc, dict) or doc.get("type") != COIN_TYPE or not {"run_id", "signature"} <= set(doc):
        raise TrainingError(f"{path} is not a coin file (made by `zkaudit coin sign`)")
    return doc


def coin_words(run: Run, coin_doc: dict, tape: randomness.Tape) -> np.ndarray:
    """Verify the coin and the tape; the words u the run must use."""
    from zkaudit.train.check import check_randomness

    if coin_doc.get("run_id") != run.run_id.hex():
        raise CoinRejected("the coin was issued for another run record (a tape or record changed after the coin)",
                           where="coin", expected=run.run_id.hex(), got=coin_doc.get("run_id"))
    try:
        sig = bytes.fromhex(coin_doc["signature"])
    except (TypeError, ValueError):
        raise CoinRejected("the coin's signature is not hex", where="coin") from None
    return check_randomness(run.run_id, tape, run.tape_commitment, TapeShape.of(run.policy), run.auditor_public_key,
                            sig, run.policy.digest)


def save_trace(path: Path, trace: Trace) -> None:
    _write_private(path, _npz(**trace.arrays()))


def load_trace(path: Path) -> Trace:
    if not Path(path).is_file():
        raise TrainingError(f"{path} not found: train the run first (`zkaudit train RUN --coin COIN`)")
    with np.load(path, allow_pickle=False) as z:
        fields = {f: z[f] for f in Trace.FIELDS}
    return Trace(**fields, loss=np.zeros(len(fields["words"])))


def final_loss(loss: np.ndarray, steps: int) -> float:
    """Mean loss over the last tenth of the steps. A step whose Poisson batch
    came out empty has no loss (NaN); when every step of that window did, the
    last step that had a batch stands in, and NaN only if none had one."""
    window = loss[-max(1, steps // 10):]
    finite = window[np.isfinite(window)]
    if finite.size == 0:
        finite = loss[np.isfinite(loss)][-1:]
    return float(finite.mean()) if finite.size else float("nan")


def train_run(run: Run, coin_doc: dict, *, dataset_dir: Path | None = None, on_step=None) -> dict:
    """Verify the coin, train with u = R + m, write the trace, models and result.json."""
    import onnx

    from zkaudit.train import export
    from zkaudit.train.accountant import epsilon
    from zkaudit.train.trainer import predict, train

    if (run.path / "result.json").exists():
        raise TrainingError(f"{run.path} is already trained (result.json exists); one run, one coin, one training")
    policy = run.policy
    data = training_data(policy, run.dataset_dir(dataset_dir))
    if data.record_digest.hex() != run.record["dataset_record_digest"]:
        raise RunRejected("the dataset is not the one the run record names", where="dataset",
                          expected=run.record["dataset_record_digest"], got=data.record_digest.hex())
    words = coin_words(run, coin_doc, run.tape())
    trace = train(policy, data.X, data.y, words, on_step=on_step)
    theta = trace.final_theta
    privacy = epsilon(policy, len(data.X))
    x_real = data.X / float(1 << policy.feature_bits)
    x_abs_max = float(data.feature_abs_max.max()) / (1 << policy.feature_bits)
    q = export.quantize(policy, theta, x_abs_max, export.activation_ranges(policy, theta, data.X))
    save_trace(run.path / "private" / "trace.npz", trace)
    onnx.save(export.float_model(policy, theta), run.path / "model.onnx")
    onnx.save(export.quantized_model(policy, q), run.path / "model_int8.onnx")
    _write_private(run.path / "private" / "calibration.npy", _npy(x_real.astype(np.float32)))
    result = {
        "schema": RESULT_SCHEMA, "run_id": run.run_id.hex(), "coin": coin_doc.get("coin"),
        "steps": policy.steps, "theta": [int(v) for v in theta], "theta_digest": _theta_digest(theta).hex(),
        "train_accuracy": repr(float((predict(policy, theta, data.X) == data.y).mean())),
        "final_loss": repr(final_loss(trace.loss, policy.steps)),
        "mean_batch": repr(float(trace.live.sum(axis=1).mean())),
        "privacy": privacy.to_json(),
        "quantization": {"layers": [{"in_scale": repr(layer.in_scale), "w_scale": repr(layer.w_scale),
                                     "b_scale": repr(layer.b_scale), "out_scale": repr(layer.out_scale),
                                     "weights": layer.weights.tolist(), "bias": layer.bias.tolist(),
                                     "saturated": layer.saturated}
                                    for layer in q],
                         "saturated": sum(layer.saturated for layer in q),
                         "rounding": "half-up, exact rationals; clamp [-127, 127]"},
        "files": {"float_model": "model.onnx", "quantized_model": "model_int8.onnx",
                  "calibration": "private/calibration.npy", "trace": "private/trace.npz"},
    }
    _write_json(run.path / "result.json", result)
    return result


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _theta_digest(theta: np.ndarray) -> bytes:
    import hashlib

    return hashlib.sha256(b"zkaudit/theta/v1\x00" + np.asarray(theta, dtype="<i8").tobytes()).digest()


def check_run(run: Run, coin_doc: dict, *, dataset_dir: Path | None = None) -> dict:
    """The non-zero-knowledge check of a trained run: tape, coin, mask, every step,
    and theta_T as result.json states it. Returns a summary; raises RunRejected."""
    from zkaudit.train.accountant import check_claim, epsilon
    from zkaudit.train.check import check_trace, check_words

    policy = run.policy
    data = training_data(policy, run.dataset_dir(dataset_dir))
    if data.record_digest.hex() != run.record["dataset_record_digest"]:
        raise RunRejected("the dataset is not the one the run record names", where="dataset",
                          expected=run.record["dataset_record_digest"], got=data.record_digest.hex())
    expected_tables = table_digests(policy, len(data.X))
    if run.record.get("tables") != expected_tables:
        raise RunRejected("the run record's table digests are not those the policy defines", where="tables")
    words = coin_words(run, coin_doc, run.tape())
    trace = load_trace(run.path / "private" / "trace.npz")
    check_words(words, trace)
    check_trace(Semantics.of(policy, len(data.X)), data.X, data.y, trace)
    result = _read_json(run.path / "result.json", "result")
    if result.get("theta") != [int(v) for v in trace.final_theta]:
        raise RunRejected("result.json's theta is not the trace's final weights", where="result")
    report = epsilon(policy, len(data.X))
    try:
        claimed = result["privacy"]
        check_claim(report, float(claimed["epsilon"]), float(claimed["delta"]))
    except (KeyError, TypeError, ValueError):
        raise RunRejected("result.json has no readable privacy claim", where="accountant") from None
    return {"run_id": run.run_id.hex(), "steps": policy.steps, "epsilon": report.epsilon, "delta": report.delta,
            "checked": "tape, coin, mask, every step, theta_T, epsilon"}

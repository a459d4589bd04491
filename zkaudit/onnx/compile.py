"""`compile_model`: ONNX file -> compiled directory.

    DIR/public/circuit.bin     canonical circuit encoding (digest = its sha256)
    DIR/public/summary.json    ops, parameter count, ranges, digest, I/O, fidelity
    DIR/private/weights.bin    the weights container (files in private/ are mode 0600)

Everything is written to a temporary directory beside DIR and renamed into
place at the end, so a failure never leaves a partial DIR (an existing DIR is
replaced only once the new one is complete).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from zkaudit.circuit import CIRCUIT_FILE, SUMMARY_FILE, WEIGHTS_FILE, Circuit, Weights, encode_circuit
from zkaudit.onnx.calibrate import LABELS, check_method, checked_values, collect_ranges, read_labels, read_samples
from zkaudit.onnx.errors import MissingCalibration, OnnxImportError
from zkaudit.onnx.fidelity import agreement_notes, measure, strip_qdq
from zkaudit.onnx.importer import Importer, check_ops
from zkaudit.onnx.load import fix_input_shapes, fold_batchnorm, load_model
from zkaudit.onnx import ml_trees
from zkaudit.onnx.ml_trees import OPS as TREE_OPS
from zkaudit.onnx.registry import OPS as BASE_OPS

QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearMatMul", "QLinearConv", "MatMulInteger",
                 "ConvInteger", "QGemm", "QLinearAdd", "QLinearMul", "QLinearConcat", "QLinearSigmoid",
                 "QLinearLeakyRelu", "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearSoftmax"}
RANDOM_EVAL_SAMPLES = 64
OPS = {**BASE_OPS, **TREE_OPS}  # the importable ops: the registry's table and the tree ensembles


@dataclass(frozen=True)
class CompileSummary:
    out_dir: Path
    digest: str
    circuit: Circuit
    summary: dict

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, sort_keys=True)


def model_kind(model: onnx.ModelProto) -> str:
    ops = {n.op_type for n in model.graph.node}
    if not ops & QUANTIZED_OPS:
        return "float"
    return "qdq" if not ops & (QUANTIZED_OPS - {"QuantizeLinear", "DequantizeLinear"}) else "qoperator"


def import_model(model: onnx.ModelProto, *, ranges=None, name="model") -> tuple[Circuit, Weights]:
    kind = model_kind(model)
    imp = Importer(model, OPS, ranges=ranges, ort_exact=kind != "float", name=name)
    outputs = imp.run()
    circuit = imp.b.circuit(outputs, [o.name for o in model.graph.output])
    return circuit, Weights(imp.b.weights)


def _random_samples(circuit: Circuit, shapes: dict, seed: int = 0) -> dict:
    """Inputs drawn uniformly from each input's quantized grid (dequantized)."""
    rng = np.random.default_rng(seed)
    out = {}
    for spec, (name, shape) in zip(circuit.inputs, shapes.items()):
        q = rng.integers(spec.lo, spec.hi + 1, size=(RANDOM_EVAL_SAMPLES,) + shape)
        out[name] = ((q - spec.zero_point) * np.float32(spec.scale or 1.0)).astype(np.float32)
    return out


def _spec_json(s) -> dict:
    return {"name": s.name, "shape": list(s.shape), "range": [s.lo, s.hi], "scale": s.scale,
            "zero_point": s.zero_point}


def compile_model(path, out_dir, calibration=None, input_shapes=None, *, eval_data=None,
                  method: str = "minmax", percentile: float = 99.99, extra_files=None) -> CompileSummary:
    """Compile `path` into `out_dir`. Float models need `calibration` (a file
    or a dict name -> samples); fidelity is measured on `eval_data` if given,
    else on the calibration samples, else (quantized models) on seeded random
    inputs. `extra_files(circuit, weights) -> {relative path: bytes}` adds
    files (e.g. the weight commitment) to the same atomic write."""
    path, out_dir = Path(path), Path(out_dir)
    check_out_dir(out_dir)  # before any work: never compile for minutes, then refuse
    check_method(method, percentile)
    model = load_model(path)
    check_ops(model, OPS)
    notes: list[str] = []  # one line each, shown by `compile` and kept in the summary
    shapes = fix_input_shapes(model, input_shapes, notes)
    kind = model_kind(model)
    original = onnx.ModelProto()
    original.CopyFrom(model)
    fold_batchnorm(model)

    def samples_from(src):
        if src is None:
            return None
        if isinstance(src, dict):
            src = {k: v for k, v in src.items() if k != LABELS}
            if set(src) != set(shapes):
                raise OnnxImportError(f"calibration data names {sorted(src)} do not match the model's inputs "
                                      f"{list(shapes)}")
            out = {}
            for k, v in src.items():
                arr = checked_values(k, v)
                if arr.size == 0 or arr.size % max(1, int(np.prod(shapes[k]))):
                    raise OnnxImportError(f"calibration data for input {k!r} holds {arr.size} values, not a "
                                          f"positive multiple of its size {int(np.prod(shapes[k]))}")
                out[k] = arr.reshape((-1,) + shapes[k])
            return out
        return read_samples(src, shapes)

    calib = samples_from(calibration)
    evals = samples_from(eval_data)
    ranges = None
    for node in model.graph.node:  # refused tree variants by name, before the float model runs
        ml_trees.precheck(node, lambda what, n=node: OnnxImportError(f"node {n.name or n.output[0]!r} "
                                                                   f"({n.op_type}): {what}"))
    if kind == "float":
        if calib is None:
            raise MissingCalibration(f"{path.name} is a float model: it needs calibration data",
                                     hint="pass --calibration FILE: .npy with N x input shape, .npz or EZKL JSON")
        ranges = collect_ranges(model, calib, method, percentile)
    circuit, weights = import_model(model, ranges=ranges, name=path.stem)

    fidelity_samples = evals or calib or _random_samples(circuit, shapes)
    source = "eval" if evals else "calibration" if calib else "random"
    last_op = original.graph.node[-1].op_type if original.graph.node else ""
    report = measure(
        circuit, weights, fidelity_samples,
        float_model=original if kind == "float" else strip_qdq(original) if kind == "qdq" else None,
        quant_model=original if kind != "float" else None,
        sigmoid_last=last_op in ("Sigmoid", "QLinearSigmoid"),
        labels=read_labels(eval_data if evals else calibration if calib else None),
    )
    report["source"] = source
    notes += agreement_notes(report)
    encoded = encode_circuit(circuit)
    digest = circuit.digest()
    summary = {
        "format": "zkaudit-summary/1",
        "model": path.name,
        "kind": kind,
        "digest": digest,
        "calibration": None if ranges is None else {"method": method, "samples": len(next(iter(calib.values()))),
                                                    **({"percentile": percentile} if method == "percentile" else {})},
        "onnx_ops": dict(sorted(Counter(n.op_type for n in original.graph.node).items())),
        "ops": dict(sorted(Counter(n.op for n in circuit.nodes).items())),
        "nodes": len(circuit.nodes),
        "parameters": circuit.parameter_count,
        "inputs": [_spec_json(s) for s in circuit.inputs],
        "outputs": [_spec_json(s) for s in circuit.outputs],
        "weights": [_spec_json(s) for s in circuit.weights],
        "tensor_ranges": {s.name: [s.lo, s.hi] for s in circuit.tensors},
        "fidelity": report,
        "notes": notes,
    }
    files = {
        CIRCUIT_FILE: encoded,
        SUMMARY_FILE: json.dumps(summary, indent=2, sort_keys=True).encode(),
        WEIGHTS_FILE: weights.encode(),
    }
    if extra_files is not None:
        files.update(extra_files(circuit, weights))
    write_atomically(out_dir, files)
    return CompileSummary(out_dir, digest, circuit, summary)


class OutputFolderRefused(OnnxImportError):
    """--out names something compile must not replace: a folder holding
    anything but a compiled model, a symbolic link, or a file."""


# What a compiled model folder may hold: only these are ever replaced, so a
# vendor key, a registry database or another model kept in the folder named
# by --out is never deleted (it was: the old folder was removed wholesale).
# private/weights.salt: the hashed weight commitment's salt (compile
# --weight-commitment hashed); private/zk-bank-sizes.json: what `prove`
# remembers about earlier zero-knowledge proofs of this model.
MODEL_LAYOUT = {"public": {"circuit.bin", "summary.json", "weights.commitment"},
                "private": {"weights.bin", "weights.salt", "zk-bank-sizes.json"}}


def _absolute(out_dir) -> Path:
    """The absolute path without following a link at its end (resolve()
    would replace a link named by --out with its target)."""
    return Path(os.path.abspath(os.fspath(out_dir)))


def check_out_dir(out_dir) -> Path:
    """Refuse, before any work, an --out that is not absent, empty, or a
    compiled model written by compile. Returns the absolute path."""
    out = _absolute(out_dir)
    how = "choose a new folder for --out (it is created), or an empty one"
    if out.is_symlink():
        raise OutputFolderRefused(f"--out {out_dir} is a symbolic link; compile does not write through links",
                                  hint=how)
    if not out.exists():
        return out
    cwd = Path.cwd()
    if out == cwd or out in cwd.parents:
        raise OutputFolderRefused(f"--out {out_dir} is the current folder or one above it", hint=how)
    if not out.is_dir():
        raise OutputFolderRefused(f"--out {out_dir} exists and is not a folder", hint=how)
    foreign = _foreign_entries(out)
    if foreign:
        shown = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
        raise OutputFolderRefused(f"--out {out_dir} holds files that are not part of a compiled model ({shown}); "
                                  "compile replaces only a folder it wrote, and never deletes other files",
                                  hint=f"{how}; to recompile in place, move those files out first")
    return out


def _foreign_entries(out: Path) -> list[str]:
    """Entries of `out` outside MODEL_LAYOUT (links count as foreign)."""
    foreign = []
    for entry in sorted(out.iterdir()):
        allowed = MODEL_LAYOUT.get(entry.name)
        if allowed is None or entry.is_symlink() or not entry.is_dir():
            foreign.append(entry.name)
            continue
        for inner in sorted(entry.iterdir()):
            if inner.name not in allowed or inner.is_symlink() or not inner.is_file():
                foreign.append(f"{entry.name}/{inner.name}")
    return foreign


def _remove_model(old: Path) -> None:
    """Delete a compiled model folder file by file (never rmtree: anything
    unexpected that appeared since the check stays, and the folder with it)."""
    for sub, names in MODEL_LAYOUT.items():
        for name in names:
            try:
                (old / sub / name).unlink()
            except FileNotFoundError:
                pass
        try:
            (old / sub).rmdir()
        except FileNotFoundError:
            pass
    old.rmdir()


def write_atomically(out_dir: Path, files: dict) -> None:
    """Write `files` into a new folder beside `out_dir` and rename it into
    place; an existing `out_dir` is replaced only if `check_out_dir` allows."""
    out_dir = check_out_dir(out_dir)
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OnnxImportError(f"cannot create output directory beside {out_dir}: {exc}") from None
    try:
        for rel, data in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
            if Path(rel).parts[0] == "private":  # secrets (weights, salt): owner only; tmp is 0700 meanwhile
                (tmp / rel).chmod(0o600)
        if out_dir.exists() or out_dir.is_symlink():
            check_out_dir(out_dir)  # again, just before replacing: the folder may have changed while compiling
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            old.rmdir()
            out_dir.rename(old)
            tmp.rename(out_dir)
            try:
                _remove_model(old)
            except OSError:
                pass  # something appeared in the old folder meanwhile: it stays, under its .old- name
        else:
            tmp.rename(out_dir)
    except OSError as exc:
        raise OnnxImportError(f"cannot write {out_dir}: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

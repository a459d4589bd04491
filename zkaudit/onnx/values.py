"""What an ONNX tensor name stands for during import.

* `Act`: a tensor computed in the circuit. `spec` is its IR tensor; `scale`
  and `zero_point` say what its integers mean (real = (q - zp) * scale; scale
  None for raw integers such as accumulators). `is_float` records the ONNX
  tensor's type: a float tensor (float/QDQ graphs) stands for the real value,
  an integer tensor (QOperator graphs) for the integers themselves.
* `QConst`: a constant given as integers plus scale/zero point (the output of
  DequantizeLinear on an initializer): a quantized weight.
* plain numpy arrays: other constants (float weights, shapes, axes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from zkaudit.circuit import TensorSpec
from zkaudit.onnx.quant import QParams


@dataclass(frozen=True)
class Act:
    spec: TensorSpec
    scale: float | None
    zero_point: int
    qrange: tuple[int, int]
    is_float: bool

    @property
    def shape(self) -> tuple[int, ...]:
        return self.spec.shape

    @property
    def qparams(self) -> QParams:
        return QParams(self.scale, self.zero_point, *self.qrange)

    def with_spec(self, spec: TensorSpec) -> "Act":
        return replace(self, spec=spec)


@dataclass(frozen=True)
class QConst:
    values: np.ndarray  # integers
    scale: np.ndarray  # scalar or 1-D along `axis`
    zero_point: np.ndarray
    axis: int

    @property
    def per_axis(self) -> bool:
        """A scale with more than one value. onnxruntime writes a bias's
        per-tensor scale as shape [1]: that is per tensor, not along `axis`
        (a 1-D bias has no axis 1)."""
        return np.size(self.scale) > 1 or np.size(self.zero_point) > 1

    def dequantized(self) -> np.ndarray:
        q = self.values.astype(np.int64)
        if not self.per_axis:
            s = np.float64(np.asarray(self.scale, dtype=np.float32).reshape(()))
            return (q - np.int64(np.asarray(self.zero_point).reshape(()))) * s
        shape = [1] * self.values.ndim
        shape[self.axis % max(self.values.ndim, 1)] = -1
        s = np.asarray(self.scale, dtype=np.float64).reshape(shape if np.size(self.scale) > 1 else ())
        z = np.asarray(self.zero_point, dtype=np.int64).reshape(shape if np.size(self.zero_point) > 1 else ())
        return (q - z) * s

"""Quantization parameters and the quantizers of our own static PTQ.

Activations: asymmetric int8, real = (q - zp) * scale, with the calibrated
range widened to include 0 so real zero is exact (padding and ReLU rely on
it). Weights: symmetric int8 per output channel, scale = max|w| / 127, zero
point 0. Biases: int32 at scale (input scale * weight scale), so they add
straight into the accumulator. Scales are float32 values, the type ONNX
stores them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT8 = (-128, 127)
UINT8 = (0, 255)


@dataclass(frozen=True)
class QParams:
    scale: float
    zero_point: int
    qmin: int
    qmax: int

    def same_as(self, other: "QParams") -> bool:
        return (np.float32(self.scale) == np.float32(other.scale) and self.zero_point == other.zero_point
                and (self.qmin, self.qmax) == (other.qmin, other.qmax))

    def quantize(self, x) -> np.ndarray:
        q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(self.scale)).astype(np.int64) + self.zero_point
        return np.clip(q, self.qmin, self.qmax)


def dtype_range(dtype) -> tuple[int, int]:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def from_range(lo: float, hi: float, qrange=INT8) -> QParams:
    qmin, qmax = qrange
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    span = hi - lo
    scale = float(np.float32(span / (qmax - qmin))) if span > 0 else 1.0 / (qmax - qmin)
    zp = int(np.clip(np.rint(qmin - lo / scale), qmin, qmax))
    return QParams(scale, zp, qmin, qmax)


def quantize_weights_per_channel(w: np.ndarray, axis: int, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-channel: returns (int values, float32 scales per channel)."""
    qmax = 2 ** (bits - 1) - 1
    moved = np.moveaxis(np.asarray(w, dtype=np.float64), axis, 0)
    absmax = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1) if moved.size else np.zeros(moved.shape[0])
    scales = np.where(absmax > 0, absmax / qmax, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scales.astype(np.float64).reshape(shape)), -qmax, qmax).astype(np.int64)
    return q, scales


def quantize_bias(b: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(b, dtype=np.float64) / np.asarray(scales, dtype=np.float64)).astype(np.int64)


def combined_scale(x_scale, w_scales, y_scale, *, float32: bool) -> np.ndarray:
    """x_scale * w_scale / y_scale per channel. With float32=True it is
    evaluated exactly as onnxruntime does (float32 product, then quotient),
    so our multipliers equal its scales."""
    if float32:
        return (np.float32(x_scale) * np.asarray(w_scales, dtype=np.float32)) / np.float32(y_scale)
    return float(x_scale) * np.asarray(w_scales, dtype=np.float64) / float(y_scale)

"""End-to-end training for the zoo's CNNs, in numpy only (no deep-learning
framework is installed): layers with a forward and an analytic backward pass,
softmax cross-entropy, Adam, and a seeded mini-batch loop.

Layout is NCHW, as in ONNX. Each layer keeps what its backward pass needs
from the last training-mode forward call; `backward(dy)` stores the parameter
gradients in `layer.grads` (same keys as `layer.params`) and returns dL/dx.

    Conv2d       y = W * x (cross-correlation, stride 1, zero padding), by im2col:
                 y[(n,h,w), m] = cols[(n,h,w), (c,i,j)] . W[m, (c,i,j)]
                 dW = dy^T cols, dcols = dy W, dx = col2im(dcols)
    BatchNorm2d  y = g (x - mu) / sqrt(var + eps) + b, batch statistics in
                 training (running averages kept for export), so
                 dx = (g / (m sigma)) (m dy - sum dy - xhat sum(dy xhat)), m = N H W
    MaxPool2     2x2, stride 2; the gradient goes to the (first) maximum
    Dense        y = x W^T + b (ONNX Gemm with transB=1)
    loss         mean softmax cross-entropy; dlogits = (softmax - onehot) / N

Determinism: initialization and shuffling come from one seeded generator; the
arithmetic is numpy/BLAS, so results are reproducible on the same machine and
library versions (as the zoo's gen.py scripts promise). `tests/test_training.py`
checks every backward pass against central finite differences.
"""

from __future__ import annotations

import math
import time

import numpy as np


class Conv2d:
    def __init__(self, cin: int, cout: int, rng: np.random.Generator, kernel: int = 3, pad: int = 1,
                 bias: bool = False, dtype=np.float32):
        fan_in = cin * kernel * kernel
        self.pad, self.kernel = pad, kernel
        self.params = {"w": rng.normal(0, math.sqrt(2.0 / fan_in), size=(cout, cin, kernel, kernel)).astype(dtype)}
        if bias:
            self.params["b"] = np.zeros(cout, dtype=dtype)
        self.grads: dict = {}

    def forward(self, x, train=False):
        w = self.params["w"]
        cout, k, p = w.shape[0], self.kernel, self.pad
        n, c, h, wd = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # n c ho wo k k
        ho, wo = win.shape[2], win.shape[3]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
        out = cols @ w.reshape(cout, -1).T
        if "b" in self.params:
            out += self.params["b"]
        if train:
            self.cache = (x.shape, cols, ho, wo)
        return out.reshape(n, ho, wo, cout).transpose(0, 3, 1, 2)

    def backward(self, dy):
        w = self.params["w"]
        (n, c, h, wd), cols, ho, wo = self.cache
        cout, k, p = w.shape[0], self.kernel, self.pad
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, cout)
        self.grads["w"] = (dy2.T @ cols).reshape(w.shape)
        if "b" in self.params:
            self.grads["b"] = dy2.sum(axis=0)
        dcols = (dy2 @ w.reshape(cout, -1)).reshape(n, ho, wo, c, k, k)
        dxp = np.zeros((n, c, h + 2 * p, wd + 2 * p), dtype=dy.dtype)
        for i in range(k):  # col2im: each kernel tap scatters back onto a shifted window
            for j in range(k):
                dxp[:, :, i:i + ho, j:j + wo] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return dxp[:, :, p:p + h, p:p + wd]


class BatchNorm2d:
    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        self.eps, self.momentum = eps, momentum
        self.params = {"gamma": np.ones(channels, dtype=dtype), "beta": np.zeros(channels, dtype=dtype)}
        self.running_mean = np.zeros(channels, dtype=dtype)
        self.running_var = np.ones(channels, dtype=dtype)
        self.grads: dict = {}

    def forward(self, x, train=False):
        if train:
            mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
            m = self.momentum
            self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(x.dtype)
            self.running_var = ((1 - m) * self.running_var + m * var).astype(x.dtype)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean[:, None, None]) * inv_std[:, None, None]
        if train:
            self.cache = (xhat, inv_std)
        return xhat * self.params["gamma"][:, None, None] + self.params["beta"][:, None, None]

    def backward(self, dy):
        xhat, inv_std = self.cache
        m = dy.shape[0] * dy.shape[2] * dy.shape[3]
        self.grads["gamma"] = (dy * xhat).sum(axis=(0, 2, 3))
        self.grads["beta"] = dy.sum(axis=(0, 2, 3))
        dxhat = dy * self.params["gamma"][:, None, None]
        return (inv_std[:, None, None] / m) * (
            m * dxhat - dxhat.sum(axis=(0, 2, 3))[:, None, None]
            - xhat * (dxhat * xhat).sum(axis=(0, 2, 3))[:, None, None])

    def onnx_stats(self):
        """(scale, bias, mean, var) as ONNX BatchNormalization takes them (same eps)."""
        return self.params["gamma"], self.params["beta"], self.running_mean, self.running_var


class Relu:
    params: dict = {}
    grads: dict = {}

    def forward(self, x, train=False):
        if train:
            self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dy):
        return dy * self.mask


class MaxPool2:
    """2x2 max-pooling with stride 2 (ONNX MaxPool kernel_shape=[2,2], strides=[2,2])."""

    params: dict = {}
    grads: dict = {}

    def forward(self, x, train=False):
        n, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"MaxPool2 needs even spatial sizes, got {h}x{w}")
        win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        idx = win.argmax(axis=-1)[..., None]
        if train:
            self.cache = (x.shape, idx)
        return np.take_along_axis(win, idx, axis=-1)[..., 0]

    def backward(self, dy):
        (n, c, h, w), idx = self.cache
        dwin = np.zeros((n, c, h // 2, w // 2, 4), dtype=dy.dtype)
        np.put_along_axis(dwin, idx, dy[..., None], axis=-1)
        return dwin.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


class Flatten:
    params: dict = {}
    grads: dict = {}

    def forward(self, x, train=False):
        if train:
            self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy):
        return dy.reshape(self.shape)


class Dense:
    """y = x W^T + b with W of shape (out, in), as ONNX Gemm(transB=1)."""

    def __init__(self, fan_in: int, fan_out: int, rng: np.random.Generator, gain: float = 2.0, dtype=np.float32):
        self.params = {"w": rng.normal(0, math.sqrt(gain / fan_in), size=(fan_out, fan_in)).astype(dtype),
                       "b": np.zeros(fan_out, dtype=dtype)}
        self.grads: dict = {}

    def forward(self, x, train=False):
        if train:
            self.x = x
        return x @ self.params["w"].T + self.params["b"]

    def backward(self, dy):
        self.grads["w"] = dy.T @ self.x
        self.grads["b"] = dy.sum(axis=0)
        return dy @ self.params["w"]


class Sequential:
    def __init__(self, layers):
        self.layers = list(layers)

    def forward(self, x, train=False):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def predict(self, x, batch_size=256):
        return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def accuracy(self, x, y) -> float:
        return float(np.mean(self.predict(x).argmax(axis=1) == y))

    def parameter_count(self) -> int:
        return sum(p.size for layer in self.layers for p in layer.params.values())


def softmax_cross_entropy(logits, labels):
    """(mean loss, dloss/dlogits) for integer class labels."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = -logp[np.arange(n), labels].mean()
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return float(loss), grad / n


class Adam:
    def __init__(self, model: Sequential, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.model, self.lr, self.b1, self.b2, self.eps, self.wd = model, lr, beta1, beta2, eps, weight_decay
        self.slots = [(layer, k) for layer in model.layers for k in layer.params]
        self.m = [np.zeros_like(layer.params[k]) for layer, k in self.slots]
        self.v = [np.zeros_like(layer.params[k]) for layer, k in self.slots]
        self.t = 0

    def step(self, lr=None):
        lr = self.lr if lr is None else lr
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for (layer, k), m, v in zip(self.slots, self.m, self.v):
            p, g = layer.params[k], layer.grads[k]
            if self.wd and k == "w":  # decoupled weight decay (AdamW) on weights only
                p -= lr * self.wd * p
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= (lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype)


def fit(model: Sequential, x, y, *, epochs: int, batch_size: int, lr: float, seed: int,
        weight_decay: float = 0.0, x_val=None, y_val=None, log=print) -> None:
    """Mini-batch Adam on softmax cross-entropy, learning rate on a cosine
    schedule to zero; the batch order comes from `seed`."""
    rng = np.random.default_rng(seed)
    opt = Adam(model, lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total = epochs * steps_per_epoch
    for epoch in range(epochs):
        start, order, losses = time.perf_counter(), rng.permutation(len(x)), []
        for b in range(steps_per_epoch):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss, dlogits = softmax_cross_entropy(model.forward(x[idx], train=True), y[idx])
            model.backward(dlogits.astype(x.dtype))
            opt.step(lr * 0.5 * (1 + math.cos(math.pi * opt.t / total)))
            losses.append(loss)
        msg = f"epoch {epoch + 1}/{epochs} loss {np.mean(losses):.4f}"
        if x_val is not None:
            msg += f" val acc {model.accuracy(x_val, y_val):.4f}"
        log(f"{msg} ({time.perf_counter() - start:.1f}s)")

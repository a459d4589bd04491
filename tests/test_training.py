"""The zoo's numpy training code (circuits/training.py): every analytic
backward pass against central finite differences on tiny float64 shapes, and
a short training run that must be seeded and learn."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "circuits"))
from training import (BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2, Relu, Sequential, fit,  # noqa: E402
                      softmax_cross_entropy)

F64 = np.float64


def loss_of(model, x, y):
    return softmax_cross_entropy(model.forward(x, train=True), y)[0]


def numeric_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        up = f()
        a[i] = old - eps
        down = f()
        a[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def check_gradients(model, x, y):
    loss, dlogits = softmax_cross_entropy(model.forward(x, train=True), y)
    dx = model.backward(dlogits)
    analytic = [("x", dx, x)] + [(f"{type(layer).__name__}.{k}", layer.grads[k], layer.params[k])
                                 for layer in model.layers for k in layer.params]
    for name, got, array in analytic:
        want = numeric_grad(lambda: loss_of(model, x, y), array)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=name)


def tiny_cnn(rng, bias=False):
    return Sequential([Conv2d(2, 3, rng, bias=bias, dtype=F64), BatchNorm2d(3, dtype=F64), Relu(), MaxPool2(),
                       Conv2d(3, 4, rng, bias=True, dtype=F64), Relu(), Flatten(), Dense(4 * 2 * 2, 5, rng, dtype=F64)])


def test_cnn_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    model = tiny_cnn(rng)
    x = rng.normal(size=(3, 2, 4, 4))
    check_gradients(model, x, np.array([0, 3, 4]))


def test_conv_without_padding_and_with_bias():
    rng = np.random.default_rng(1)
    model = Sequential([Conv2d(1, 2, rng, pad=0, bias=True, dtype=F64), Flatten(), Dense(2 * 3 * 3, 3, rng, dtype=F64)])
    check_gradients(model, rng.normal(size=(2, 1, 5, 5)), np.array([2, 0]))


def test_dense_stack():
    rng = np.random.default_rng(2)
    model = Sequential([Dense(6, 5, rng, dtype=F64), Relu(), Dense(5, 4, rng, dtype=F64)])
    check_gradients(model, rng.normal(size=(4, 6)), np.array([0, 1, 2, 3]))


def test_conv_matches_direct_convolution():
    from common import conv2d

    rng = np.random.default_rng(3)
    layer = Conv2d(3, 4, rng, dtype=F64)
    x = rng.normal(size=(2, 3, 6, 5))
    np.testing.assert_allclose(layer.forward(x), conv2d(x, layer.params["w"], 1), rtol=1e-12, atol=1e-12)


def test_maxpool_rejects_odd_sizes():
    with pytest.raises(ValueError, match="even"):
        MaxPool2().forward(np.zeros((1, 1, 3, 4)))


def test_fit_is_seeded_and_learns():
    def run():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 1, 4, 4)).astype(np.float32)
        y = (x[:, 0, :2].sum(axis=(1, 2)) > 0).astype(int)
        model = Sequential([Conv2d(1, 4, rng), BatchNorm2d(4), Relu(), MaxPool2(), Flatten(), Dense(16, 2, rng)])
        fit(model, x, y, epochs=30, batch_size=16, lr=0.02, seed=0, log=lambda _: None)
        return model, model.accuracy(x, y)

    (m1, acc1), (m2, acc2) = run(), run()
    assert acc1 == acc2 >= 0.9
    for l1, l2 in zip(m1.layers, m2.layers):
        for k in l1.params:
            np.testing.assert_array_equal(l1.params[k], l2.params[k])

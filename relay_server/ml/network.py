"""Small multi-label networks trained with Adam, one mini-batch at a time.

Written with numpy rather than scikit-learn's ``MLPClassifier.partial_fit``
because the latter spends ~10 ms validating its input on every call, which
made per-batch training (needed to honour ``batch_size`` and to stop within
one batch) take tens of seconds on the demo data instead of a fraction of a
second. Architecture: ReLU hidden layer(s), one logistic output per type.
The loss is binary cross-entropy per type with per-sample weights (class
balancing, and 0 for windows whose label is ambiguous), plus L2 on weights.
"""

from __future__ import annotations

import itertools

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def forward(weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Output logits (n, outputs) of the network for inputs ``x``."""
    h = x
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        h = np.maximum(h @ w + b, 0.0)
    return h @ weights[-1] + biases[-1]


class Network:
    """ReLU MLP with logistic outputs, trained by ``step`` (one Adam update per call)."""

    def __init__(self, inputs: int, hidden: tuple[int, ...], outputs: int, *,
                 learning_rate: float, l2: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        sizes = [inputs, *hidden, outputs]
        self.weights = [rng.normal(0.0, np.sqrt(2.0 / a), (a, b)).astype(np.float64)
                        for a, b in itertools.pairwise(sizes)]
        self.biases = [np.zeros(b) for b in sizes[1:]]
        self.learning_rate = learning_rate
        self.l2 = l2
        self._m = [np.zeros_like(p) for p in self._params()]
        self._v = [np.zeros_like(p) for p in self._params()]
        self._t = 0

    def _params(self) -> list[np.ndarray]:
        return [*self.weights, *self.biases]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(forward(self.weights, self.biases, x))

    def step(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        """One Adam update on a mini-batch: ``y`` 0/1 and ``w`` weights, both (n, outputs)."""
        acts = [x]
        for wt, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            acts.append(np.maximum(acts[-1] @ wt + b, 0.0))
        p = sigmoid(acts[-1] @ self.weights[-1] + self.biases[-1])
        total = max(float(w.sum()), 1e-12)
        delta = w * (p - y) / total
        grads_w: list[np.ndarray] = []
        grads_b: list[np.ndarray] = []
        for layer in range(len(self.weights) - 1, -1, -1):
            grads_w.append(acts[layer].T @ delta + self.l2 * self.weights[layer])
            grads_b.append(delta.sum(axis=0))
            if layer:
                delta = (delta @ self.weights[layer].T) * (acts[layer] > 0)
        grads = [*grads_w[::-1], *grads_b[::-1]]
        self._t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        lr = self.learning_rate * np.sqrt(1 - b2 ** self._t) / (1 - b1 ** self._t)
        for param, g, m, v in zip(self._params(), grads, self._m, self._v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            param -= lr * m / (np.sqrt(v) + eps)


class Ensemble:
    """Several networks, differently initialised, trained on the same batches; mean output.

    Averaging a few small networks steadies what one of them learns from a
    handful of examples (its result depends much less on the seed).
    """

    def __init__(self, inputs: int, hidden: tuple[int, ...], outputs: int, members: int, *,
                 learning_rate: float, l2: float, seed: int) -> None:
        self.members = [Network(inputs, hidden, outputs, learning_rate=learning_rate, l2=l2,
                                seed=seed * 1000 + m) for m in range(members)]

    def step(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        for net in self.members:
            net.step(x, y, w)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return np.mean([net.probabilities(x) for net in self.members], axis=0)

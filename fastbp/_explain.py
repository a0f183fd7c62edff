"""Backpropagation made visible: every number of one training step.

:func:`explain_step` recomputes, with plain NumPy and the model's current
weights, one forward and one backward pass on a mini-batch, and the weights
after one gradient-descent step. Its text form follows the derivation taught
in lectures: sums of products, activations, error, deltas, derivatives,
update. For a classifier the output layer is a softmax (or logistic units)
and the error the cross-entropy ``E = -sum_j d_j log y_j``; with that pair
f'(s) cancels and the output delta is ``y - d``.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted


def _softmax(s):
    shifted = np.exp(s - s.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


_FUNCTIONS = {
    "identity": (lambda s: s, lambda a: np.ones_like(a)),
    "logistic": (lambda s: 1.0 / (1.0 + np.exp(-s)), lambda a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda a: 1.0 - a**2),
    "relu": (lambda s: np.maximum(s, 0.0), lambda a: (a > 0).astype(a.dtype)),
    "leaky_relu": (
        lambda s: np.where(s < 0, 0.01 * s, s),
        lambda a: np.where(a > 0, 1.0, 0.01),
    ),
    "elu": (
        lambda s: np.where(s < 0, np.expm1(np.minimum(s, 0.0)), s),
        lambda a: np.where(a > 0, 1.0, a + 1.0),
    ),
    # An output only, with the cross-entropy: its derivative is never used.
    "softmax": (_softmax, None),
}
_FORMULAS = {
    "identity": "f(s) = s, f'(s) = 1",
    "logistic": "f(s) = 1 / (1 + e^-s), f'(s) = f(s) (1 - f(s))",
    "tanh": "f(s) = tanh(s), f'(s) = 1 - f(s)^2",
    "relu": "f(s) = max(s, 0), f'(s) = 1 if f(s) > 0 else 0",
    "leaky_relu": "f(s) = s if s > 0 else 0.01 s, f'(s) = 1 or 0.01",
    "elu": "f(s) = s if s > 0 else e^s - 1, f'(s) = 1 or f(s) + 1",
    "softmax": "f(s)_j = e^(s_j - max s) / sum_k e^(s_k - max s)",
}


@dataclass
class LayerStep:
    """The numbers of one layer in one step (arrays over the batch's rows).

    Attributes
    ----------
    activation : str
        Name of the layer's activation f.
    inputs : ndarray of shape (n_samples, fan_in)
        The layer's inputs x (the previous layer's f(s)).
    W, b : ndarray of shape (fan_in, fan_out) and (fan_out,)
        Weights and biases before the step.
    s : ndarray of shape (n_samples, fan_out)
        Sums of products ``s = x @ W + b``.
    f_s : ndarray of shape (n_samples, fan_out)
        Activations ``f(s)``.
    delta : ndarray of shape (n_samples, fan_out)
        ``dE/ds`` for every sample (before averaging over the batch).
    dE_dW, dE_db : ndarray of shape (fan_in, fan_out) and (fan_out,)
        Gradient of the batch's error E.
    W_new, b_new : ndarray
        Weights and biases after ``W - eta * dE/dW``.
    """

    activation: str
    inputs: np.ndarray
    W: np.ndarray
    b: np.ndarray
    s: np.ndarray
    f_s: np.ndarray
    delta: np.ndarray
    dE_dW: np.ndarray
    dE_db: np.ndarray
    W_new: np.ndarray
    b_new: np.ndarray


@dataclass
class ExplainedStep:
    """One forward pass, backward pass and update; ``str()`` derives it.

    Attributes
    ----------
    layers : list of LayerStep
        From the first hidden layer to the output layer.
    desired : ndarray of shape (n_samples, n_outputs)
        The targets d.
    predicted : ndarray of shape (n_samples, n_outputs)
        The network's outputs y.
    error : float
        ``E = 1/2 mean over samples and outputs of (d - y)^2`` (a
        regressor), or the cross-entropy ``-sum_j d_j log y_j`` (with
        ``(1 - d_j) log(1 - y_j)`` for logistic outputs) averaged over samples
        (a classifier, y clipped to [eps, 1 - eps] as scikit-learn), plus the
        L2 term ``0.5 * alpha * ||W||^2 / n_samples`` when alpha > 0: the
        model's ``loss_`` for this batch.
    learning_rate : float
        eta of the update.
    delta_rule : tuple of ndarray or None
        For a regressor without hidden layer, the weights and biases after
        the rule ``W + eta (d - y) x`` that ignores f' (taught before
        backprop), for contrast; None otherwise (for the cross-entropy that
        rule is the gradient step itself).
    cross_entropy : bool
        Whether E is the cross-entropy (a classifier).
    """

    layers: list
    desired: np.ndarray
    predicted: np.ndarray
    error: float
    learning_rate: float
    delta_rule: tuple | None
    cross_entropy: bool = False

    def __str__(self):
        return _derivation(self)


def explain_step(model, X, y, learning_rate=None):
    """Every quantity of one backprop step of ``model`` on the batch (X, y).

    The step is plain gradient descent, ``W <- W - eta * dE/dW``, with the
    model's learning_rate_init unless ``learning_rate`` is given; it is the
    update ``partial_fit`` makes with ``solver='sgd'``, ``momentum=0``, one
    batch holding all rows and no shuffling. The model is not changed.

    Parameters
    ----------
    model : BackpropRegressor or BackpropClassifier
        A regressor with weights (fitted, or with ``coefs_``/``intercepts_``
        assigned) trained with the squared error, or a fitted classifier.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The mini-batch.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Desired outputs d (a classifier: labels, encoded as its targets).
    learning_rate : float, default=None
        eta; ``model.learning_rate_init`` when None.

    Returns
    -------
    step : ExplainedStep
        ``print(step)`` shows the derivation.

    Examples
    --------
    The lecture's example: one logistic neuron, x = (0.1, 0.3), d = 0.03.

    >>> import numpy as np
    >>> from fastbp import BackpropRegressor, explain_step
    >>> neuron = BackpropRegressor((), out_activation="logistic", alpha=0.0,
    ...                            learning_rate_init=0.01)
    >>> neuron.coefs_ = [np.array([[0.5], [0.2]])]
    >>> neuron.intercepts_ = [np.array([1.83])]
    >>> step = explain_step(neuron, [[0.1, 0.3]], [0.03])
    >>> print(f"{step.layers[0].s[0, 0]:.2f} {step.predicted[0, 0]:.9f}")
    1.94 0.874352143
    >>> print(f"{step.error:.9f}")
    0.356465271
    >>> print(np.round(step.delta_rule[0].ravel(), 9))
    [0.49915565 0.19746694]
    """
    classifier = is_classifier(model)
    if not classifier and getattr(model, "loss", "squared_error") != "squared_error":
        raise NotImplementedError("explain_step explains the squared error only.")
    check_is_fitted(model, ["coefs_", "intercepts_"])
    coefs = [np.asarray(W, dtype=np.float64) for W in model.coefs_]
    intercepts = [np.asarray(b, dtype=np.float64) for b in model.intercepts_]
    X = X.toarray() if scipy.sparse.issparse(X) else X  # a batch to show
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if classifier:
        D = model._targets_of(y)
    else:
        D = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    if X.shape[1] != coefs[0].shape[0] or D.shape[1] != coefs[-1].shape[1]:
        raise ValueError(
            f"The model takes {coefs[0].shape[0]} inputs and gives "
            f"{coefs[-1].shape[1]} outputs; got X with {X.shape[1]} columns "
            f"and y with {D.shape[1]}."
        )
    eta = model.learning_rate_init if learning_rate is None else learning_rate
    names = [model.activation] * (len(coefs) - 1)
    if hasattr(model, "out_activation_"):
        names.append(model.out_activation_)
    else:  # a regressor whose weights were assigned, never fitted
        names.append(model.out_activation)

    inputs, sums, outputs = [], [], []
    A = X
    for W, b, name in zip(coefs, intercepts, names):
        inputs.append(A)
        sums.append(A @ W + b)
        A = _FUNCTIONS[name][0](sums[-1])
        outputs.append(A)
    n = len(X)
    alpha = model.alpha
    penalty = 0.5 * alpha * sum(np.sum(W**2) for W in coefs) / n
    if classifier:
        error = _cross_entropy(D, A, names[-1]) + penalty
    else:
        error = 0.5 * np.mean((D - A) ** 2) + penalty

    # Chain rule, output layer first: dE/ds = (y - d) f'(s) for the squared
    # error, y - d for the cross-entropy with its softmax or logistic output
    # (f' cancels); then each layer's delta is the next layer's delta through
    # its weights, times f'.
    deltas = [None] * len(coefs)
    if classifier:
        deltas[-1] = A - D
    else:
        deltas[-1] = (A - D) * _FUNCTIONS[names[-1]][1](A)
    for layer in range(len(coefs) - 2, -1, -1):
        deltas[layer] = (deltas[layer + 1] @ coefs[layer + 1].T) * _FUNCTIONS[
            names[layer]
        ][1](outputs[layer])
    layers = []
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        dE_dW = (inputs[layer].T @ deltas[layer] + alpha * W) / n
        dE_db = deltas[layer].sum(axis=0) / n
        layers.append(
            LayerStep(names[layer], inputs[layer], W, b, sums[layer], outputs[layer],
                      deltas[layer], dE_dW, dE_db, W - eta * dE_dW, b - eta * dE_db)
        )  # fmt: skip
    delta_rule = None
    if len(coefs) == 1 and not classifier:
        difference = D - A
        delta_rule = (
            coefs[0] + eta * X.T @ difference / n,
            intercepts[0] + eta * difference.sum(axis=0) / n,
        )
    return ExplainedStep(
        layers, D, A, float(error), float(eta), delta_rule, classifier
    )


def _cross_entropy(D, P, output):
    """Mean over samples of ``-sum_j d_j log p_j`` (and the complement for
    logistic outputs), p clipped to [eps, 1 - eps] as scikit-learn does."""
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    per_sample = -(D * np.log(P)).sum(axis=1)
    if output == "logistic":
        per_sample -= ((1 - D) * np.log(1 - P)).sum(axis=1)
    return per_sample.mean()


def _numbers(values):
    """Numbers on one line: a vector as [a, b], a matrix row by row [a, b; c, d]."""
    values = np.atleast_1d(np.asarray(values))
    rows = values.reshape(len(values), -1) if values.ndim > 1 else values[None]
    text = "; ".join(", ".join(f"{v:.9g}" for v in row) for row in rows)
    return f"[{text}]"


def _derivation(step):
    """The step written out as in a lecture, for the batch's first row."""
    lines = ["Forward pass (first row of the batch)"]
    for index, layer in enumerate(step.layers, start=1):
        kind = "output layer" if index == len(step.layers) else f"layer {index}"
        lines.append(f"  {kind}: {_FORMULAS[layer.activation]}")
        x = layer.inputs[0]
        for j in range(layer.s.shape[1]):
            if len(x) <= 6:
                terms = " + ".join(
                    f"{x[i]:.9g}*{layer.W[i, j]:.9g}" for i in range(len(x))
                )
                lines.append(
                    f"    s{j + 1} = {terms} + {layer.b[j]:.9g} = {layer.s[0, j]:.9g}"
                )
            else:
                lines.append(f"    s{j + 1} = x . w + b = {layer.s[0, j]:.9g}")
            lines.append(f"    f(s{j + 1}) = {layer.f_s[0, j]:.9g}")
    d, y = step.desired[0], step.predicted[0]
    lines.append("Error")
    if step.cross_entropy:
        softmax = step.layers[-1].activation == "softmax"
        terms = [
            f"{a:.9g} log {b:.9g}" if softmax
            else f"{a:.9g} log {b:.9g} + {1 - a:.9g} log {1 - b:.9g}"
            for a, b in zip(d, y)
        ]  # fmt: skip
        formula = (
            "-sum_j d_j log y_j" if softmax
            else "-sum_j [d_j log y_j + (1 - d_j) log(1 - y_j)]"
        )  # fmt: skip
        lines.append(
            f"  E = {formula} = -(" + " + ".join(terms) + f") = {step.error:.9g}"
            + ("  (mean over rows, with the L2 term)" if len(step.desired) > 1
               else "")
        )  # fmt: skip
    else:
        lines.append(
            "  E = 1/2 (d - y)^2 = 1/2 ("
            + ", ".join(f"{a:.9g} - {b:.9g}" for a, b in zip(d, y))
            + f")^2 = {step.error:.9g}"
            + ("  (mean over rows and outputs, with the L2 term)"
               if step.desired.size > 1 else "")
        )  # fmt: skip
    lines.append("Backward pass (chain rule, output layer first)")
    for index in range(len(step.layers), 0, -1):
        layer = step.layers[index - 1]
        if index == len(step.layers) and step.cross_entropy:
            lines.append(
                f"  output layer: delta = dE/ds = y - d (f'(s) cancels against "
                f"the cross-entropy) = {_numbers(layer.delta[0])}"
            )
        elif index == len(step.layers):
            lines.append(
                f"  output layer: delta = dE/ds = (y - d) * f'(s) = "
                f"{_numbers(layer.delta[0])}"
            )
        else:
            lines.append(
                f"  layer {index}: delta = (delta_next @ W_next.T) * f'(s) = "
                f"{_numbers(layer.delta[0])}"
            )
        lines.append(f"    dE/dW = x * delta = {_numbers(layer.dE_dW)}")
        lines.append(f"    dE/db = delta = {_numbers(layer.dE_db)}")
    lines.append(f"Update: w <- w - eta * dE/dw, eta = {step.learning_rate:g}")
    for index, layer in enumerate(step.layers, start=1):
        lines.append(f"  layer {index}: W = {_numbers(layer.W_new)}")
        lines.append(f"           b = {_numbers(layer.b_new)}")
    if step.delta_rule is not None:
        W, b = step.delta_rule
        lines.append(
            "Contrast: the rule W <- W + eta (d - y) x, which ignores f'(s), "
            f"would give W = {_numbers(W)}, b = {_numbers(b)}"
        )
    return "\n".join(lines)

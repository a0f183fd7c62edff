"""
Backprop by hand
================

The lecture's neuron: inputs (0.1, 0.3), weights (0.5, 0.2), bias 1.83, a
logistic activation and the desired output 0.03. The forward pass computes
the sum of products ``s = x1 w1 + x2 w2 + b`` and ``f(s) = 1 / (1 + e^-s)``,
the error ``E = 1/2 (d - f(s))^2``; the backward pass gets ``dE/dw`` by the
chain rule, and gradient descent moves each weight by ``-eta dE/dw``.
:func:`fastbp.explain_step` shows every number of that step.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastbp import BackpropRegressor, explain_step

X, d = np.array([[0.1, 0.3]]), np.array([0.03])


def lecture_neuron():
    neuron = BackpropRegressor(
        (), out_activation="logistic", solver="sgd", momentum=0.0, alpha=0.0,
        learning_rate_init=0.01, batch_size=1, shuffle=False,
    )
    neuron.coefs_ = [np.array([[0.5], [0.2]])]
    neuron.intercepts_ = [np.array([1.83])]
    return neuron


step = explain_step(lecture_neuron(), X, d)
print(step)

# %%
# The step by the chain rule (backprop) against the rule that forgets f'(s),
# ``W + eta (d - y) x``:
print("backprop:     ", step.layers[0].W_new.ravel(), step.layers[0].b_new)
print("without f'(s):", step.delta_rule[0].ravel(), step.delta_rule[1])

# %%
# The error over many steps. With a learning rate of 0.5, ``partial_fit``
# makes one such step per call; the rule without f'(s) is computed by hand
# for contrast.
neuron = lecture_neuron().set_params(learning_rate_init=0.5)
errors = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for _ in range(300):
        neuron.partial_fit(X, d)
        errors.append(neuron.loss_)

W, b = np.array([0.5, 0.2]), 1.83
delta_rule_errors = []
for _ in range(300):
    y = 1 / (1 + np.exp(-(X[0] @ W + b)))
    delta_rule_errors.append(0.5 * (d[0] - y) ** 2)
    W, b = W + 0.5 * (d[0] - y) * X[0], b + 0.5 * (d[0] - y)

fig, ax = plt.subplots()
ax.semilogy(errors, label="backprop (fastbp's partial_fit)")
ax.semilogy(delta_rule_errors, "--", label="the rule without f'(s)")
ax.set_xlabel("step")
ax.set_ylabel("E = 1/2 (d - y)^2")
ax.legend()
plt.show()

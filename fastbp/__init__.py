"""fastbp: multilayer perceptrons trained by backpropagation, fast.

Compiled (Numba) forward and backward kernels behind a scikit-learn
estimator, :class:`BackpropRegressor`.
"""

from ._explain import ExplainedStep, LayerStep, explain_step
from ._regressor import BackpropRegressor

__all__ = ["BackpropRegressor", "ExplainedStep", "LayerStep", "explain_step"]
__version__ = "0.1.0"

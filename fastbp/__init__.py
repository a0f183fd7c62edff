"""fastbp: multilayer perceptrons trained by backpropagation, fast.

Compiled (Numba) forward and backward kernels behind a scikit-learn
estimator, :class:`BackpropRegressor`.
"""

from ._regressor import BackpropRegressor

__all__ = ["BackpropRegressor"]
__version__ = "0.1.0"

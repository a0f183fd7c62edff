"""fastbp: multilayer perceptrons trained by backpropagation, fast.

Compiled (Numba) forward and backward kernels behind two scikit-learn
estimators, :class:`BackpropRegressor` and :class:`BackpropClassifier`.
"""

from ._classifier import BackpropClassifier
from ._display import LossCurveDisplay
from ._explain import ExplainedStep, LayerStep, explain_step
from ._out_of_core import partial_fit_blocks
from ._regressor import BackpropRegressor

__all__ = [
    "BackpropClassifier",
    "BackpropRegressor",
    "ExplainedStep",
    "LayerStep",
    "LossCurveDisplay",
    "explain_step",
    "partial_fit_blocks",
]
__version__ = "0.1.0"

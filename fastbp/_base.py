"""What every fastbp estimator does: the shared base of the two estimators.

:class:`BaseBackprop` validates input and parameters, owns training (``fit``
and ``partial_fit`` under the estimator's lock, the stochastic epoch loop of
``_stochastic`` or L-BFGS of ``_lbfgs``, early stopping, callbacks), the flat
parameter buffer and its ``coefs_``/``intercepts_`` views, the network's
forward pass for prediction, and pickling.

An estimator built on it supplies what differs, through these hooks:

- ``_prepare_targets(y)``: y before validation (e.g. refuse strings), and
  ``_y_numeric``, whether scikit-learn's validation makes y numeric;
- ``_encode_targets(y, dtype, reset, incremental)``: the validated y as the
  network's targets ``Y``, a C-contiguous (n_samples, n_outputs) array of
  ``dtype``;
- ``_target_weights(y)``: per-sample weights that the targets imply (the
  classifier's ``class_weight``), multiplying sample_weight, or None;
- ``_output_activation``: the name of the output layer's activation;
- ``_loss_spec``: ``(loss code, Huber threshold)``, as the kernels take it;
- ``_check_options()``: checks between parameters, at fit;
- ``_validation_score(P, Y_val, w_val)``: early stopping's score of the
  network's outputs ``P`` on the held-out part;
- ``_stratify(Y)``: what the validation split is stratified on, or None.
"""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATION_CODES, OUTPUT_CODES
from ._callbacks import CallbackSupportMixin, fit_context, with_callbacks
from ._concurrency import lock_of
from ._inputs import check_numeric, dense_row_blocks, network_input
from ._layout import pack_parameters, parameter_offsets, parameter_views
from ._network import predict as predict_kernel
from ._sparse import kernel_input
from ._stochastic import train_stochastic
from ._threads import numba_threads_setting, one_blas_thread

# Rows per chunk when predicting: at most this many (measured: 4096 is
# fastest on 100k rows), and at most PREDICT_CHUNK_VALUES activations per
# chunk, which bounds the workspace for wide layers.
PREDICT_CHUNK_ROWS = 4096
PREDICT_CHUNK_VALUES = 1 << 20


class BaseBackprop(CallbackSupportMixin, BaseEstimator):
    """Base of fastbp's estimators; not for direct use.

    See the module's docstring for the hooks an estimator supplies.
    """

    # The parameters both estimators share, with MLPRegressor's and
    # MLPClassifier's meaning.
    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATION_CODES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }
    _y_numeric = True

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads the signature on every get_params (hence every
        # clone and parameter validation); it never changes, so read it once.
        return _parameter_names(cls)

    # ------------------------------------------------------------------ fit

    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input. float32 stays float32; anything else becomes
            float64. A sparse matrix with few stored values trains as it
            is, any other is made dense (see Notes).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: numbers for the regressor, labels (or a label indicator
            matrix) for the classifier.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights of the loss; None gives equal
            weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with lock_of(self).exclusive():
            return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental):
        self._interrupted = False  # set by Ctrl-C (read by partial_fit_blocks)
        self._validate_params()
        self._check_options()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        # Weights assigned to an estimator that was never fitted are where
        # training starts (with warm_start or partial_fit); its history starts.
        fresh = not hasattr(self, "n_features_in_")
        if not first_pass:
            self._sync_parameters()
        # Values beyond float32's range become inf when cast, and sums of
        # huge values (scikit-learn's finiteness check) overflow: no numpy
        # warnings, the validation names the problem.
        with np.errstate(over="ignore", invalid="ignore"):
            X, Y, sample_weight, weighted = self._validate_training_data(
                X, y, sample_weight, first_pass or fresh, incremental
            )
        units = _layer_units(self.hidden_layer_sizes, X.shape[1], Y.shape[1])
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(units, X.dtype, random_state)
        elif fresh:
            self._start_history()
        self._check_same_network(units)
        if not incremental or not hasattr(self, "_optimizer_state"):
            self._optimizer_state = np.zeros((2, self._params.size), X.dtype)
            self._optimizer_step = 0
            self._learning_rate = float(self.learning_rate_init)
        stochastic = self.solver != "lbfgs"
        if stochastic and self.early_stopping and self.validation_scores_ is None:
            self._start_validation_history()
        # Callbacks see one task per fit, one subtask per epoch.
        context = fit_context(self, 1 if incremental else self.max_iter)
        report = self._callback_report(X, Y, sample_weight if weighted else None)
        context.call_on_fit_task_begin(estimator=self, **report)
        with one_blas_thread():
            if stochastic:
                train_stochastic(
                    self, X, Y, sample_weight, weighted, random_state,
                    incremental, context,
                )  # fmt: skip
            else:
                from ._lbfgs import train_lbfgs  # SciPy's optimizers when needed

                train_lbfgs(self, X, Y, sample_weight, context)
        context.call_on_fit_task_end(
            estimator=self, reconstruction_attributes=self._fitted_state, **report
        )
        return self

    def _validate_training_data(self, X, y, sample_weight, reset, incremental):
        """X, the targets Y and the sample weights, validated, as the kernels
        take them (C-contiguous, in the dtype the network computes in), and
        whether the samples are weighted (by sample_weight or the targets)."""
        dtype = (np.float64, np.float32) if reset else self._params.dtype
        y = self._prepare_targets(y)
        check_numeric(X, "X")
        X, y = validate_data(
            self,
            network_input(X),
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=dtype,
            order="C",
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        Y = self._encode_targets(y, X.dtype, reset, incremental)
        target_weights = self._target_weights(y)
        weighted = sample_weight is not None or target_weights is not None
        # With target weights, the product is taken in float64 and rounded
        # once, as a sample_weight computed by the user would be.
        dtype = X.dtype if target_weights is None else np.dtype(np.float64)
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0], dtype=dtype)
        else:
            check_numeric(sample_weight, "sample_weight")
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        if target_weights is not None:
            sample_weight = (sample_weight * target_weights).astype(X.dtype)
        if weighted:
            # The loss divides by the weights' sum: it must be a normal number.
            if sample_weight.sum(dtype=np.float64) < np.finfo(X.dtype).tiny:
                raise ValueError(
                    "sample_weight sums to "
                    f"{sample_weight.sum(dtype=np.float64):.3g}, too small to "
                    f"divide by in {X.dtype}; scale the weights up (only their "
                    "ratios matter)."
                )
        return X, Y, np.ascontiguousarray(sample_weight), weighted

    def _check_same_network(self, units):
        """A warm start or partial_fit continues the network it has."""
        if list(self._units) != units:
            raise ValueError(
                f"The network has layer sizes {self._units.tolist()} but the data "
                f"and hidden_layer_sizes give {units}: a warm start or "
                "partial_fit needs the same number of features, hidden units "
                "and outputs."
            )
        if self._output_activation != self.out_activation_:
            raise ValueError(
                f"The network's output activation is {self.out_activation_!r} "
                f"but the estimator's parameters ask for "
                f"{self._output_activation!r} ({self._output_activation_origin}): "
                "a warm start or partial_fit keeps the output layer. Fit with "
                "warm_start=False to start a new network."
            )

    def _initialize(self, units, dtype, random_state):
        """Draw Glorot-uniform weights exactly as scikit-learn does."""
        self._units = np.asarray(units, dtype=np.int64)
        self._offsets = parameter_offsets(units)
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(random_state.uniform(-bound, bound, fan_out))
        self._set_parameters(pack_parameters(coefs, intercepts, dtype))
        self._start_history()

    def _start_history(self):
        self.n_layers_ = len(self._units)
        self.n_outputs_ = int(self._units[-1])
        self.out_activation_ = self._output_activation
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self.validation_scores_ = None
        self.best_validation_score_ = None
        self.validation_loss_curve_ = None
        if self.early_stopping and self.solver != "lbfgs":
            self._start_validation_history()

    def _start_validation_history(self):
        self.best_loss_ = None
        self.validation_scores_ = []
        self.validation_loss_curve_ = []
        self.best_validation_score_ = -np.inf
        self._best_params = self._params.copy()

    # ---------------------------------------------------- parameter buffer

    def _set_parameters(self, params):
        self._params = params
        self.coefs_, self.intercepts_ = parameter_views(
            params, self._units, self._offsets
        )
        self._views = (tuple(self.coefs_), tuple(self.intercepts_))

    def _sync_parameters(self):
        """Make the flat buffer hold the weights in ``coefs_``/``intercepts_``.

        They are views into the buffer unless the user assigned new arrays
        (to start a warm fit from chosen weights) or the estimator was
        unpickled; then they are copied into a fresh buffer.
        """
        params = getattr(self, "_params", None)
        views = getattr(self, "_views", None)
        if (
            params is not None
            and views is not None
            and _same_objects(self.coefs_, views[0])
            and _same_objects(self.intercepts_, views[1])
        ):
            return
        units = [np.shape(self.coefs_[0])[0]] + [np.shape(c)[1] for c in self.coefs_]
        expected = [(i, o) for i, o in zip(units[:-1], units[1:])]
        if [np.shape(c) for c in self.coefs_] != expected or [
            np.shape(b) for b in self.intercepts_
        ] != [(o,) for o in units[1:]]:
            raise ValueError(
                "coefs_ and intercepts_ do not describe a network: expected "
                f"coefs_ of shapes {expected} and intercepts_ of shapes "
                f"{[(o,) for o in units[1:]]}."
            )
        if params is not None:
            dtype = params.dtype
        elif getattr(self, "_weights_dtype", None) is not None:  # unpickled
            dtype = np.dtype(self._weights_dtype)
        else:
            arrays = [np.asarray(a) for a in self.coefs_ + self.intercepts_]
            float32 = all(a.dtype == np.float32 for a in arrays)
            dtype = np.float32 if float32 else np.float64
        self._units = np.asarray(units, dtype=np.int64)
        self._offsets = parameter_offsets(units)
        self._set_parameters(pack_parameters(self.coefs_, self.intercepts_, dtype))

    @property
    def _network(self):
        """``(units, offsets, codes)``: the network, as the kernels take it."""
        return self._units, self._offsets, self._activation_codes

    @property
    def _activation_codes(self):
        """Activation code of every weight layer's output."""
        codes = [ACTIVATION_CODES[self.activation]] * (len(self._units) - 1)
        codes[-1] = OUTPUT_CODES[self.out_activation_]
        return np.asarray(codes, dtype=np.int64)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the number of "
                f"samples ({n_samples}); it is clipped to {n_samples}.",
                stacklevel=6,
            )
        return int(min(self.batch_size, n_samples))

    def _callback_report(self, X, Y, sample_weight):
        """What the callback hooks receive: data, targets, sample_weight."""
        y = Y[:, 0] if Y.shape[1] == 1 else Y
        return {"X": X, "y": y, "metadata": {"sample_weight": sample_weight}}

    def _fitted_state(self):
        """Copies of the weights, for a callback's snapshot of the model."""
        return {
            "coefs_": [c.copy() for c in self.coefs_],
            "intercepts_": [b.copy() for b in self.intercepts_],
        }

    # -------------------------------------------------------------- predict

    def _network_outputs(self, X, output_code=None):
        """The network's outputs (n_samples, n_outputs) for any valid ``X``.

        Under the estimator's shared lock; a sparse X too large to make dense
        at once goes by row blocks. ``output_code`` replaces the output
        layer's activation (e.g. identity, for the logits).
        """
        with lock_of(self).shared():
            if not hasattr(self, "coefs_"):
                check_is_fitted(self, "coefs_")  # raises NotFittedError
            self._sync_parameters()
            outs = []
            for block in dense_row_blocks(X, self._params.dtype):
                outs.append(self._outputs(block, output_code))
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    def _outputs(self, X, output_code):
        """The outputs, for an X that may be made dense at once (or stays
        sparse, see ``_inputs.network_input``)."""
        with np.errstate(over="ignore", invalid="ignore"):  # as in _fit
            X = self._validate_predict_input(X, self._params.dtype)
            out = self._forward(X, output_code)
            # A sum is finite only if every value is (or if it overflows).
            if not np.isfinite(np.add.reduce(out, axis=None)):
                _warn_if_not_finite(out, X)
        return out

    def _forward(self, X, output_code=None):
        """The network's output (n_samples, n_outputs) for validated ``X``."""
        params = self._params
        units, offsets, codes = self._network
        if output_code is not None:
            codes[-1] = output_code
        out = np.empty((X.shape[0], units[-1]), dtype=params.dtype)
        width = int(units.max())
        chunk_rows = min(PREDICT_CHUNK_ROWS, max(1, PREDICT_CHUNK_VALUES // width))
        chunk_rows = max(1, min(chunk_rows, X.shape[0]))
        network = (units, offsets, codes)
        with numba_threads_setting():
            predict_kernel(kernel_input(X), params, network, chunk_rows, out)
        return out

    def _validate_predict_input(self, X, dtype):
        """``validate_data``, with a shortcut for arrays that need nothing.

        A C-contiguous 2-D array of the weights' dtype with the fitted number
        of columns and finite values is used as it is (when the model was not
        fitted on named columns); anything else goes through
        scikit-learn's validation.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype == dtype
            and X.flags.c_contiguous
            and 0 < X.shape[0]
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(np.add.reduce(X, axis=None))
        ):
            return X
        check_numeric(X, "X")
        return validate_data(
            self, network_input(X), reset=False, accept_sparse="csr", dtype=dtype,
            order="C",
        )  # fmt: skip

    # ---------------------------------------------------------- persistence

    def __getstate__(self):
        # coefs_ and intercepts_ carry the weights; the flat buffer is rebuilt
        # from them when needed (see _sync_parameters). Taken under the shared
        # hold: a copy never catches a fit in another thread half-way.
        with lock_of(self).shared():
            state = dict(super().__getstate__())  # a copy: never edit the live dict
        params = state.pop("_params", None)
        if params is not None:  # the dtype in which the network computes
            state["_weights_dtype"] = params.dtype.name
        state.pop("_views", None)
        state.pop("_lock", None)  # a new one is made when needed
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Sparse X trains as it is or is made dense (see _inputs).
        tags.input_tags.sparse = True
        return tags


@functools.cache
def _parameter_names(cls):
    return BaseEstimator._get_param_names.__func__(cls)


def _layer_units(hidden_layer_sizes, n_features, n_outputs):
    """Units per layer, input and output included; hidden sizes checked."""
    sizes = hidden_layer_sizes
    sizes = list(sizes) if np.iterable(sizes) else [sizes]
    for size in sizes:
        if not isinstance(size, Integral | np.integer) or size < 1:
            raise ValueError(
                "hidden_layer_sizes must contain positive integers, got "
                f"{hidden_layer_sizes!r}."
            )
    return [n_features, *(int(s) for s in sizes), n_outputs]


def _same_objects(arrays, views):
    """True when ``arrays`` holds exactly the objects ``views`` (not copies)."""
    return len(arrays) == len(views) and all(a is v for a, v in zip(arrays, views))


def _warn_if_not_finite(out, X):
    """Warn that outputs are inf or NaN: X is far beyond the training data."""
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        warnings.warn(
            f"{bad.sum()} of {len(out)} predictions are not finite (inf or NaN): "
            "the network overflowed on input values far beyond the training "
            f"data (largest |X| here: {np.abs(X).max():.3g}). Scale X as the "
            "training data was.",
            RuntimeWarning,
            stacklevel=5,  # the line that called predict
        )

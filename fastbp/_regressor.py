"""``BackpropRegressor``: a multilayer perceptron trained by backpropagation.

The estimator validates input and parameters and owns the epoch loop
(shuffling, stopping, verbose output, divergence and Ctrl-C handling); one
compiled call (``_network.run_epoch``) trains on all mini-batches of an epoch.
"""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATION_CODES, OUTPUT_CODES
from ._callbacks import CallbackSupportMixin, fit_context, with_callbacks
from ._concurrency import lock_of
from ._inputs import check_numeric, dense_if_sparse, dense_row_blocks
from ._layout import pack_parameters, parameter_offsets, parameter_views
from ._loss import LOSS_CODES, gradient_scale, loss_value
from ._network import FullBatch, batch_workspaces, run_epoch
from ._network import predict as predict_kernel
from ._optimizers import LEARNING_RATE, SOLVER_CODES, optimizer_hyperparameters
from ._threads import blas_threads_for

# A layer with fan_in * fan_out at least this large uses BLAS, smaller ones
# hand-written loops. Measured (n = 8192 x 8, batch 200, adam): BLAS is
# faster at every width from 1 to 256, so for now every layer uses it.
BLAS_MIN_SIZE = 0
# Rows per chunk when predicting: at most this many (measured: 4096 is
# fastest on 100k rows), and at most PREDICT_CHUNK_VALUES activations per
# chunk, which bounds the workspace for wide layers.
PREDICT_CHUNK_ROWS = 4096
PREDICT_CHUNK_VALUES = 1 << 20


class BackpropRegressor(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    """Multilayer perceptron regressor trained by backpropagation.

    The parameters, their defaults and their meaning are those of
    scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`, except that
    ``hidden_layer_sizes`` comes first (``BackpropRegressor((50, 50))``) and
    that the output layer's activation can be chosen (``out_activation``).
    Given the same initial weights and hyper-parameters, both estimators
    compute the same weights.

    Each epoch runs as one compiled call over all its mini-batches. float32
    input is trained and predicted in float32, any other input in float64.
    Sparse input is made dense (see Notes).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Number of units of each hidden layer. ``()`` gives a network with no
        hidden layer: one neuron per output.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu'}, \
            default='relu'
        Activation of the hidden layers: scikit-learn's four, and the leaky
        ReLU (slope 0.01 below 0) and the ELU (``exp(z) - 1`` below 0).
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber'}, \
            default='squared_error'
        Loss minimised, a weighted mean over samples: 'squared_error' is half
        the squared error averaged over outputs (scikit-learn's);
        'absolute_error' the absolute error and 'huber' the Huber loss
        (quadratic up to ``huber_delta``, linear beyond), averaged over
        outputs, both robust to outliers; 'poisson' half the Poisson
        deviance summed over outputs, with an exponential output (log link),
        for non-negative targets, as scikit-learn's.
    huber_delta : float, default=1.0
        Threshold of the Huber loss, in units of y.
    solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
        Weight optimizer: mini-batch Adam or SGD, or full-batch L-BFGS-B
        (SciPy), whose gradient is that of the reported loss also with
        several outputs, which keeps float32 in float32, and for which
        ``partial_fit`` does not exist.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * ||W||^2 / batch_samples``.
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``. Larger than
        n_samples is clipped, with a warning.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of 'sgd' (ignored by 'adam'): 'constant' keeps
        learning_rate_init; 'invscaling' uses
        ``learning_rate_init / (t_ + 1) ** power_t`` after every epoch;
        'adaptive' divides the rate by 5 each time ``n_iter_no_change``
        epochs fail to improve by ``tol``, and stops below 1e-6.
    learning_rate_init : float, default=0.001
        Step size of 'sgd' and 'adam'.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Whether to shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the shuffling. Pass an int for
        reproducible results.
    tol : float, default=1e-4
        Training stops when the loss has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        When True, ``fit`` starts from the current ``coefs_`` and
        ``intercepts_``. Weights assigned to these attributes are where the
        next fit starts, which is how a hand calculation is reproduced.
    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (the same split
        as scikit-learn's for a given random_state), stop when its R^2 has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the
        weights of the best epoch. Not available with partial_fit.
    validation_fraction : float, default=0.1
        Fraction of the data held out when ``early_stopping=True``.
    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement of ``tol`` before training stops.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    out_activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', \
            'elu'}, default='identity'
        Activation of the output layer. With a non-identity output, the
        output error includes the activation's derivative.

    Attributes
    ----------
    coefs_ : list of ndarray of shape (fan_in, fan_out)
        Weight matrix of each layer (views into one flat buffer).
    intercepts_ : list of ndarray of shape (fan_out,)
        Bias vector of each layer.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch.
    best_loss_ : float or None
        Lowest training loss reached (None with early stopping).
    n_iter_ : int
        Number of epochs run by the last call to fit or partial_fit.
    t_ : int
        Number of training samples seen, over all calls.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Activation of the output layer.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X has string column names.
    validation_scores_ : list of float or None
        R^2 on the validation split after every epoch (early stopping only).
    validation_loss_curve_ : list of float or None
        Half the mean squared error on the validation split after every epoch,
        without the L2 term (early stopping only): the curve to put beside
        ``loss_curve_``.
    best_validation_score_ : float or None
        Best validation R^2 (early stopping only).

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The scikit-learn estimator whose
        interface and arithmetic fastbp follows.
    explain_step : Every number of one backprop step of this model.

    Notes
    -----
    With scikit-learn 1.9 or later, the estimator supports the callback
    framework (``set_callbacks``): a fit is one task with one subtask per
    epoch (per iteration for 'lbfgs'), so ``ProgressBar`` and
    ``ScoringMonitor`` follow training, and a callback whose
    ``on_fit_task_end`` returns True stops it after that epoch.

    Training stops with a ValueError when the loss or the weights become
    non-finite, keeping the weights of the last finite epoch; Ctrl-C keeps
    those of the last finished epoch, warns and returns the estimator.
    ``predict`` warns (RuntimeWarning) when some predictions are inf or NaN,
    which happens on inputs far beyond the training data.

    Sparse X (any SciPy format, or pandas' sparse columns) is converted to a
    dense array, as the kernels train on dense rows: a one-hot encoded X is
    small when dense. For training, a sparse X whose dense copy would exceed
    1 GiB is refused with a ValueError giving its size (train on row blocks
    with :func:`fastbp.partial_fit_blocks`, or reduce its features);
    ``predict`` converts such an X one block of rows at a time. Inputs,
    targets and weights must be numbers: strings raise a ValueError.

    Fits of different estimators may run in several threads at once, and
    several threads may predict with one estimator. Calls that train one
    estimator from several threads run one after the other, and a
    ``predict`` waits for a running fit of its estimator (so a callback must
    not wait for other threads that predict with the estimator it trains).

    Examples
    --------
    >>> import numpy as np
    >>> from fastbp import BackpropRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = X[:, 0] - 2 * X[:, 1] * X[:, 2]
    >>> model = BackpropRegressor((32,), max_iter=300, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATION_CODES))],
        "loss": [StrOptions(set(LOSS_CODES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
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
        "out_activation": [StrOptions(set(ACTIVATION_CODES))],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        huber_delta=1.0,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        out_activation="identity",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.huber_delta = huber_delta
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.out_activation = out_activation

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
            float64. A sparse matrix is made dense (see Notes).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values: numbers (strings raise a ValueError).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights of the loss; None gives equal
            weights.

        Returns
        -------
        self : BackpropRegressor
            The fitted estimator.
        """
        with lock_of(self).exclusive():
            return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est.solver != "lbfgs")
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch over (X, y), continuing from the current state.

        Not available with ``solver='lbfgs'`` (a full-batch method) nor with
        ``early_stopping=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : BackpropRegressor
            The updated estimator.
        """
        with lock_of(self).exclusive():
            return self._fit(X, y, sample_weight, incremental=True)

    def _check_loss_options(self):
        if self.loss == "poisson" and self.out_activation != "identity":
            raise ValueError(
                "loss='poisson' uses the exponential output (log link); leave "
                f"out_activation at 'identity', got {self.out_activation!r}."
            )

    def _layer_units(self, n_features, n_outputs):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if np.iterable(sizes) else [sizes]
        for size in sizes:
            if not isinstance(size, Integral | np.integer) or size < 1:
                raise ValueError(
                    "hidden_layer_sizes must contain positive integers, got "
                    f"{self.hidden_layer_sizes!r}."
                )
        return [n_features, *(int(s) for s in sizes), n_outputs]

    def _validate_training_data(self, X, y, sample_weight, reset):
        dtype = (np.float64, np.float32)
        if not reset:
            dtype = self._params.dtype
        y = dense_if_sparse(y, "y")
        check_numeric(y, "y")
        check_numeric(X, "X")
        X, y = validate_data(
            self,
            dense_if_sparse(X),
            y,
            reset=reset,
            dtype=dtype,
            order="C",
            multi_output=True,
            y_numeric=True,
        )
        Y = np.ascontiguousarray(y.reshape(len(y), -1), dtype=X.dtype)
        if not np.isfinite(Y).all():  # None in an object y, or float32 overflow
            raise ValueError(
                f"y contains NaN, infinity or values too large for {X.dtype} "
                "(the dtype of X, in which the network is trained)."
            )
        if self.loss == "poisson" and (Y < 0).any():
            raise ValueError(
                "loss='poisson' needs non-negative targets y; some are negative."
            )
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0], dtype=X.dtype)
        else:
            check_numeric(sample_weight, "sample_weight")
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            # The loss divides by the weights' sum: it must be a normal number.
            if sample_weight.sum(dtype=np.float64) < np.finfo(X.dtype).tiny:
                raise ValueError(
                    "sample_weight sums to "
                    f"{sample_weight.sum(dtype=np.float64):.3g}, too small to "
                    f"divide by in {X.dtype}; scale the weights up (only their "
                    "ratios matter)."
                )
        return X, Y, np.ascontiguousarray(sample_weight)

    def _fit(self, X, y, sample_weight, incremental):
        self._interrupted = False  # set by Ctrl-C (read by partial_fit_blocks)
        self._validate_params()
        self._check_loss_options()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        weighted = sample_weight is not None
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
            X, Y, sample_weight = self._validate_training_data(
                X, y, sample_weight, reset=first_pass or fresh
            )
        n_samples, n_features = X.shape
        units = self._layer_units(n_features, Y.shape[1])
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(units, X.dtype, random_state)
        elif fresh:
            self._start_history()
        if list(self._units) != units:
            raise ValueError(
                f"The network has layer sizes {self._units.tolist()} but the data "
                f"and hidden_layer_sizes give {units}: a warm start or "
                "partial_fit needs the same number of features, hidden units "
                "and outputs."
            )
        out_activation = "exp" if self.loss == "poisson" else self.out_activation
        if out_activation != self.out_activation_:
            raise ValueError(
                f"The network's output activation is {self.out_activation_!r} "
                f"but out_activation={self.out_activation!r} and "
                f"loss={self.loss!r} ask for {out_activation!r} (loss='poisson' "
                "uses 'exp'): a warm start or partial_fit keeps the output "
                "layer. Fit with warm_start=False to start a new network."
            )
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
        with blas_threads_for(self._units):
            if self.solver == "lbfgs":
                self._train_lbfgs(X, Y, sample_weight, context)
            else:
                self._train(
                    X, Y, sample_weight, weighted, random_state, incremental, context
                )
        context.call_on_fit_task_end(
            estimator=self, reconstruction_attributes=self._fitted_state, **report
        )
        return self

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
        self.out_activation_ = "exp" if self.loss == "poisson" else self.out_activation
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
    def _loss_spec(self):
        """(loss code, Huber threshold), as the kernels take them."""
        return (LOSS_CODES[self.loss], float(self.huber_delta))

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

    def _train(self, X, Y, sample_weight, weighted, random_state, incremental, context):
        """The epoch loop: one compiled call per epoch."""
        validation = None
        if self.early_stopping:
            X, Y, sample_weight, validation = self._split_validation(
                X, Y, sample_weight, weighted, random_state
            )
        report = self._callback_report(X, Y, sample_weight if weighted else None)
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        units, offsets, codes = self._units, self._offsets, self._activation_codes
        dtype = self._params.dtype
        acts, deltas, Y_batch, w_batch = batch_workspaces(units, batch_size, dtype)
        grad = np.empty_like(self._params)
        solver = SOLVER_CODES[self.solver]
        hyper = optimizer_hyperparameters(
            self._learning_rate,
            self.momentum,
            self.nesterovs_momentum,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )
        # The state of the last finished epoch, restored on divergence or
        # interruption.
        saved_params = self._params.copy()
        saved_state = self._optimizer_state.copy()
        order = np.arange(n_samples)
        self.n_iter_ = 0
        in_epoch = False
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    # The swaps of a shuffle do not depend on the values, so
                    # shuffling ``order`` in place gives scikit-learn's
                    # ``shuffle(order, random_state)`` from the same stream.
                    random_state.shuffle(order)
                hyper[LEARNING_RATE] = self._learning_rate
                epoch = context.subcontext(task_name="epoch")
                epoch.call_on_fit_task_begin(estimator=self)
                in_epoch = True
                total, step = run_epoch(
                    X, Y, sample_weight, order, batch_size, self._params, grad,
                    units, offsets, codes, BLAS_MIN_SIZE, self.alpha, acts,
                    deltas, Y_batch, w_batch, solver, self._optimizer_state,
                    self._optimizer_step, hyper, self._loss_spec,
                )  # fmt: skip
                loss = total / n_samples
                if not (np.isfinite(loss) and np.isfinite(self._params).all()):
                    self._restore(saved_params, saved_state)
                    in_epoch = False
                    what = (
                        f"the weights overflowed (loss {loss})"
                        if np.isfinite(loss)
                        else f"the loss became {loss}"
                    )
                    raise ValueError(
                        f"Training diverged: {what} at epoch "
                        f"{self.n_iter_ + 1}; the weights of the last finite "
                        f"epoch ({self.n_iter_}) were kept. Scale the data "
                        "(e.g. with StandardScaler) or lower learning_rate_init."
                    )
                self._optimizer_step = step
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_ = loss
                self.loss_curve_.append(loss)
                saved_params[:] = self._params
                saved_state[:] = self._optimizer_state
                in_epoch = False
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
                stop = self._end_of_epoch(loss, validation)
                stop |= epoch.call_on_fit_task_end(
                    estimator=self,
                    reconstruction_attributes=self._fitted_state,
                    **report,
                )
                if stop:
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations "
                        f"({self.max_iter}) reached and the optimization "
                        "hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=5,
                    )
        except KeyboardInterrupt:
            self._interrupted = True
            if in_epoch:
                self._restore(saved_params, saved_state)
            warnings.warn(
                f"Training interrupted by user after {self.n_iter_} epochs; "
                "the weights of the last finished epoch were kept.",
                stacklevel=5,
            )
        if validation is not None:
            self._params[:] = self._best_params

    def _train_lbfgs(self, X, Y, sample_weight, context):
        """Full-batch L-BFGS-B; the loss of every iteration in loss_curve_."""
        # SciPy's optimizers are imported only by fits that use them, which
        # keeps fastbp's import (its cold start) short.
        from sklearn.utils.optimize import _check_optimize_result

        from ._lbfgs import minimize_lbfgs

        objective = FullBatch(
            X, Y, sample_weight, self._units, self._offsets,
            self._activation_codes, self.alpha, BLAS_MIN_SIZE,
            gradient_scale(LOSS_CODES[self.loss], Y.shape[1]), self._loss_spec,
        )  # fmt: skip
        last = self._params.astype(np.float64)
        self.n_iter_ = 0

        report = self._callback_report(X, Y, sample_weight)

        def on_iteration(x, loss):
            last[:] = x
            self.n_iter_ += 1
            self.loss_curve_.append(float(loss))
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            iteration = context.subcontext(task_name="iteration")
            iteration.call_on_fit_task_begin(estimator=self)
            self._params[:] = x  # what the callbacks see
            if iteration.call_on_fit_task_end(
                estimator=self, reconstruction_attributes=self._fitted_state, **report
            ):
                raise StopIteration  # ends scipy's minimisation

        try:
            result = minimize_lbfgs(
                self._params, objective, self.max_iter, self.max_fun, self.tol,
                on_iteration,
            )  # fmt: skip
        except KeyboardInterrupt:
            self._interrupted = True
            self._params[:] = last
            warnings.warn(
                f"Training interrupted by user after {self.n_iter_} iterations; "
                "the weights of the last finished iteration were kept.",
                stacklevel=5,
            )
            self.loss_ = objective(self._params)[0]
            self.best_loss_ = min(self.loss_curve_, default=self.loss_)
            return
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        if not (np.isfinite(self.loss_) and np.isfinite(self._params).all()):
            self._params[:] = last
            raise ValueError(
                "Training diverged: L-BFGS reached a non-finite loss or weights; "
                "the last finite iterate was kept. Scale the data (e.g. with "
                "StandardScaler) or increase alpha."
            )

    def _restore(self, params, state):
        self._params[:] = params
        self._optimizer_state[:] = state

    def _split_validation(self, X, Y, sample_weight, weighted, random_state):
        """Hold out validation_fraction of the data, as scikit-learn does."""
        from sklearn.model_selection import train_test_split  # import when needed

        try:
            X, X_val, Y, Y_val, sample_weight, w_val = train_test_split(
                X,
                Y,
                sample_weight,
                random_state=random_state,
                test_size=self.validation_fraction,
            )
        except ValueError as error:  # e.g. 0 or too few samples held out
            raise ValueError(
                "early_stopping=True cannot hold out validation_fraction="
                f"{self.validation_fraction} of {X.shape[0]} samples: {error}"
            ) from error
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        for part, weights in (("training", sample_weight), ("validation", w_val)):
            if weighted and not weights.sum() > 0:
                raise ValueError(
                    f"early_stopping=True: the sample weights of the {part} "
                    f"part (validation_fraction={self.validation_fraction}) are "
                    "all zero; give more samples non-zero weights, or change "
                    "random_state or validation_fraction."
                )
        contiguous = [np.ascontiguousarray(a) for a in (X, Y, sample_weight)]
        return (*contiguous, (X_val, Y_val, w_val if weighted else None))

    def _end_of_epoch(self, loss, validation):
        """Stopping criteria and schedules after an epoch; True to stop.

        The same steps, in the same order, as scikit-learn's: update the
        no-improvement count (validation R^2 with early stopping, else the
        training loss), update the 'invscaling' learning rate, then stop, or
        with 'adaptive' divide the learning rate by 5.
        """
        if validation is None:
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, loss)
        else:
            self._track_validation(*validation)
        sgd = self.solver == "sgd"
        if sgd and self.learning_rate == "invscaling":
            self._learning_rate = self.learning_rate_init / (
                (self.t_ + 1) ** self.power_t
            )
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        what = "Validation score" if validation else "Training loss"
        message = (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if sgd and self.learning_rate == "adaptive":
            if self._learning_rate > 1e-6:
                self._learning_rate /= 5.0
                self._no_improvement_count = 0
                if self.verbose:
                    print(f"{message} Setting learning rate to {self._learning_rate:f}")
                return False
            message += " Learning rate too small."
        if self.verbose:
            print(f"{message} Stopping.")
        return True

    def _track_validation(self, X_val, Y_val, w_val):
        """Score the validation split; keep the best weights."""
        from sklearn.metrics import r2_score  # import when needed

        P = self._forward(X_val)
        if np.isfinite(P).all():
            score = r2_score(Y_val, P, sample_weight=w_val)
            weights = np.ones(len(P), P.dtype) if w_val is None else w_val
            loss = loss_value(P, Y_val, weights, *self._loss_spec)
        else:
            score = loss = np.nan
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(float(loss))
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_params = self._params.copy()

    # -------------------------------------------------------------- predict

    def predict(self, X):
        """Predict with the trained network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input; computed in the dtype of the network's weights.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values. A RuntimeWarning says when some are inf or NaN.
        """
        with lock_of(self).shared():
            if not hasattr(self, "coefs_"):
                check_is_fitted(self, "coefs_")  # raises NotFittedError
            self._sync_parameters()
            # A sparse X too large to make dense at once goes by row blocks.
            blocks = dense_row_blocks(X, self._params.dtype)
            outs = [self._predict_dense(block) for block in blocks]
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    def _predict_dense(self, X):
        """predict's work, for an X that may be made dense at once."""
        with np.errstate(over="ignore", invalid="ignore"):  # as in _fit
            X = self._validate_predict_input(X, self._params.dtype)
            out = self._forward(X)
            # A sum is finite only if every value is (or if it overflows).
            if not np.isfinite(np.add.reduce(out, axis=None)):
                _warn_if_not_finite(out, X)
        return out.ravel() if out.shape[1] == 1 else out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of the predictions on (X, y).

        As :meth:`sklearn.base.RegressorMixin.score`; predictions so large
        that their squares overflow give -inf, without NumPy's warnings.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test input.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for X.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of ``self.predict(X)`` against ``y``.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return super().score(X, y, sample_weight=sample_weight)

    def _forward(self, X):
        """The network's output (n_samples, n_outputs) for validated ``X``."""
        params = self._params
        out = np.empty((X.shape[0], self._units[-1]), dtype=params.dtype)
        width = int(self._units.max())
        chunk_rows = min(PREDICT_CHUNK_ROWS, max(1, PREDICT_CHUNK_VALUES // width))
        chunk_rows = max(1, min(chunk_rows, X.shape[0]))
        predict_kernel(
            X, params, self._units, self._offsets, self._activation_codes,
            BLAS_MIN_SIZE, chunk_rows, out,
        )  # fmt: skip
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
            self, dense_if_sparse(X), reset=False, dtype=dtype, order="C"
        )

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
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        # The Poisson deviance needs y >= 0 (refused otherwise), as in
        # scikit-learn's PoissonRegressor.
        tags.target_tags.positive_only = self.loss == "poisson"
        # Sparse X is made dense, under a memory limit (see _inputs).
        tags.input_tags.sparse = True
        return tags


@functools.cache
def _parameter_names(cls):
    return BaseEstimator._get_param_names.__func__(cls)


def _same_objects(arrays, views):
    """True when ``arrays`` holds exactly the objects ``views`` (not copies)."""
    return len(arrays) == len(views) and all(a is v for a, v in zip(arrays, views))


def _warn_if_not_finite(out, X):
    """Warn that predictions are inf or NaN: X is far beyond the training data."""
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        warnings.warn(
            f"{bad.sum()} of {len(out)} predictions are not finite (inf or NaN): "
            "the network overflowed on input values far beyond the training "
            f"data (largest |X| here: {np.abs(X).max():.3g}). Scale X as the "
            "training data was.",
            RuntimeWarning,
            stacklevel=3,
        )

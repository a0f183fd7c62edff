"""``BackpropRegressor``: a multilayer perceptron regressor.

What is particular to regression: numeric targets, the output layer
(``out_activation``, or the exponential of the Poisson loss), the loss, R^2
as the validation score and the score, and predictions returned as they come
out of the network. Everything else is the shared base's (``_base``).
"""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from ._activations import ACTIVATION_CODES
from ._base import BaseBackprop
from ._callbacks import with_callbacks
from ._concurrency import lock_of
from ._inputs import check_numeric, dense_if_sparse
from ._loss import LOSS_CODES


class BackpropRegressor(RegressorMixin, BaseBackprop):
    """Multilayer perceptron regressor trained by backpropagation.

    The parameters, their defaults and their meaning are those of
    scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`, except that
    ``hidden_layer_sizes`` comes first (``BackpropRegressor((50, 50))``) and
    that the output layer's activation can be chosen (``out_activation``).
    Given the same initial weights and hyper-parameters, both estimators
    compute the same weights.

    Each epoch runs as one compiled call over all its mini-batches. float32
    input is trained and predicted in float32, any other input in float64.
    Sparse input with few stored values trains as it is (see Notes).

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
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when X has string column names.
    validation_scores_ : list of float or None
        R^2 on the validation split after every epoch (early stopping only).
    validation_loss_curve_ : list of float or None
        The estimator's loss (``loss``; half the mean squared error by
        default) on the validation split after every epoch, without the L2
        term (early stopping only): the curve to put beside ``loss_curve_``.
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
    non-finite, keeping the weights of the last finite epoch; with early
    stopping it records a NaN validation score, keeps the best epoch's
    weights and warns (ConvergenceWarning), as scikit-learn. Ctrl-C keeps
    those of the last finished epoch (the best validation epoch's with early
    stopping), warns and returns the estimator.
    ``predict`` warns (RuntimeWarning) when some predictions are inf or NaN,
    which happens on inputs far beyond the training data.

    A SciPy sparse X with at most 15% of its entries stored (one-hot
    encoded columns, a bag of words) is trained on and predicted from as it
    is, never made dense: the first layer takes its stored values only, with
    the weights and outputs of the same fit on the dense copy. Any other
    sparse X (denser, or pandas' sparse columns) is converted to a dense
    array; when that copy would exceed 1 GiB, ``fit`` refuses with a
    ValueError giving its size (train on row blocks with
    :func:`fastbp.partial_fit_blocks`, or reduce its features) and
    ``predict`` converts the X one block of rows at a time. Inputs,
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
        **BaseBackprop._parameter_constraints,
        "loss": [StrOptions(set(LOSS_CODES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
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

    # ---------------------------------------------------------------- hooks

    def _check_options(self):
        if self.loss == "poisson" and self.out_activation != "identity":
            raise ValueError(
                "loss='poisson' uses the exponential output (log link); leave "
                f"out_activation at 'identity', got {self.out_activation!r}."
            )

    def _prepare_targets(self, y):
        y = dense_if_sparse(y, "y")
        check_numeric(y, "y")
        return y

    def _target_weights(self, y):
        return None  # a regressor weights samples by sample_weight only

    def _encode_targets(self, y, dtype, reset, incremental):
        Y = np.ascontiguousarray(y.reshape(len(y), -1), dtype=dtype)
        if not np.isfinite(Y).all():  # None in an object y, or float32 overflow
            raise ValueError(
                f"y contains NaN, infinity or values too large for {dtype} "
                "(the dtype of X, in which the network is trained)."
            )
        if self.loss == "poisson" and (Y < 0).any():
            raise ValueError(
                "loss='poisson' needs non-negative targets y; some are negative."
            )
        return Y

    @property
    def _output_activation(self):
        return "exp" if self.loss == "poisson" else self.out_activation

    @property
    def _output_activation_origin(self):
        return (
            f"out_activation={self.out_activation!r}, loss={self.loss!r}; "
            "loss='poisson' uses 'exp'"
        )

    @property
    def _loss_spec(self):
        """(loss code, Huber threshold), as the kernels take them."""
        return (LOSS_CODES[self.loss], float(self.huber_delta))

    def _validation_score(self, P, Y_val, w_val):
        from sklearn.metrics import r2_score  # import when needed

        if not np.isfinite(P).all():
            return np.nan  # as scikit-learn: no R^2 of non-finite outputs
        return r2_score(Y_val, P, sample_weight=w_val)

    def _stratify(self, Y):
        return None  # targets are numbers: nothing to stratify on

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
        out = self._network_outputs(X)
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        # The Poisson deviance needs y >= 0 (refused otherwise), as in
        # scikit-learn's PoissonRegressor.
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

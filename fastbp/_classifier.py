"""``BackpropClassifier``: a multilayer perceptron classifier.

What is particular to classification: labels (encoded into the network's
targets as scikit-learn's ``LabelBinarizer`` encodes them, decoded back into
labels of y's kind), the output layer (one logistic unit for two classes, a softmax
for more, one logistic unit per label of a multilabel indicator y), the log
loss, accuracy as the validation score and the score, probabilities, and
``class_weight``. Everything else is the shared base's (``_base``).
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from ._activations import IDENTITY, OUTPUT_CODES, add_bias_and_activate
from ._base import BaseBackprop
from ._callbacks import with_callbacks
from ._concurrency import lock_of
from ._inputs import dense_if_sparse
from ._loss import BINARY_LOG_LOSS, LOG_LOSS


class BackpropClassifier(ClassifierMixin, BaseBackprop):
    """Multilayer perceptron classifier trained by backpropagation.

    The parameters, their defaults and their meaning are those of
    scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`, except
    that ``hidden_layer_sizes`` comes first (``BackpropClassifier((50,))``)
    and that ``class_weight`` weights the classes. Given the same initial
    weights and hyper-parameters, both estimators compute the same weights.

    The output layer is scikit-learn's: one logistic unit for two classes, a
    softmax (computed with the row's maximum subtracted, so that no
    exponential overflows) for more, and one logistic unit per label when
    ``y`` is a multilabel indicator matrix. The loss is the log loss
    (cross-entropy), whose output error is ``p - y``. float32 input is
    trained and predicted in float32 by every solver, L-BFGS included.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Number of units of each hidden layer; ``()`` gives a network with no
        hidden layer (logistic or softmax regression).
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu'}, \
            default='relu'
        Activation of the hidden layers.
    solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
        Weight optimizer: mini-batch Adam or SGD, or full-batch L-BFGS-B
        (SciPy), for which ``partial_fit`` does not exist.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * ||W||^2 / batch_samples``.
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of 'sgd' (see :class:`BackpropRegressor`).
    learning_rate_init : float, default=0.001
        Step size of 'sgd' and 'adam'.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs (iterations for 'lbfgs').
    shuffle : bool, default=True
        Whether to shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling.
    tol : float, default=1e-4
        Training stops when the loss (or the validation accuracy) has not
        improved by at least ``tol`` for ``n_iter_no_change`` epochs.
    verbose : bool, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        When True, ``fit`` starts from the current weights; y must have the
        classes of the previous fit.
    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (scikit-learn's
        split for a given random_state: stratified for two classes, as
        scikit-learn), stop when its accuracy has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the data held out when ``early_stopping=True``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decays of Adam's moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without improvement of ``tol`` before training stops.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes: ``{label: weight}`` (labels absent from the
        dict weigh 1), or 'balanced' (``n_samples / (n_classes *
        np.bincount(y))``, from the y of each fit). Training with it is
        training with ``sample_weight`` multiplied by
        ``sklearn.utils.class_weight.compute_sample_weight(class_weight, y)``.
        With ``partial_fit``, 'balanced' weighs each batch by its own
        frequencies; to weigh by those of all the data, compute them with
        ``compute_class_weight`` and pass them as a dict.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (for a multilabel y, the label indices).
    coefs_ : list of ndarray of shape (fan_in, fan_out)
        Weight matrix of each layer (views into one flat buffer).
    intercepts_ : list of ndarray of shape (fan_out,)
        Bias vector of each layer.
    loss_ : float
        Training log loss of the last epoch (with its L2 term).
    loss_curve_ : list of float
        Training loss of every epoch.
    best_loss_ : float or None
        Lowest training loss reached (None with early stopping).
    validation_scores_ : list of float or None
        Accuracy on the validation split after every epoch (early stopping).
    validation_loss_curve_ : list of float or None
        Log loss on the validation split after every epoch, without the L2
        term (early stopping): the curve to put beside ``loss_curve_``.
    best_validation_score_ : float or None
        Best validation accuracy (early stopping).
    n_iter_ : int
        Number of epochs run by the last call to fit or partial_fit.
    t_ : int
        Number of training samples seen, over all calls.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : {'logistic', 'softmax'}
        Activation of the output layer.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The scikit-learn estimator whose
        interface and arithmetic fastbp follows.
    BackpropRegressor : The regressor on the same kernels.

    Notes
    -----
    ``predict_log_proba`` is computed from the network's last pre-activation
    as a log-softmax (or log-sigmoid), so it stays finite where the
    probabilities round to 0 (scikit-learn takes the log of the
    probabilities and returns -inf there).

    Training stops with a ValueError when the loss or the weights become
    non-finite, keeping the weights of the last finite epoch; with early
    stopping it records a NaN validation score, keeps the best epoch's
    weights and warns, as scikit-learn. Ctrl-C keeps the weights of the last
    finished epoch. Inputs, threads, persistence and callbacks behave as for
    :class:`BackpropRegressor`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import scale
    >>> from fastbp import BackpropClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = scale(X)
    >>> model = BackpropClassifier((16,), learning_rate_init=0.01, max_iter=1000,
    ...                            random_state=0).fit(X, y)
    >>> model.predict(X[:3])
    array([0, 0, 0])
    >>> model.predict_proba(X[:1]).shape
    (1, 3)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **BaseBackprop._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }
    _y_numeric = False

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
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
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
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
        self.class_weight = class_weight

    @available_if(lambda est: est.solver != "lbfgs")
    @with_callbacks
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch over (X, y), continuing from the current state.

        Not available with ``solver='lbfgs'`` (a full-batch method) nor with
        ``early_stopping=True``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of this batch, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of all the calls; required on the first call (unless
            y is a multilabel indicator matrix), optional after. Classes
            absent from a batch are allowed.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights.

        Returns
        -------
        self : BackpropClassifier
            The updated estimator.
        """
        with lock_of(self).exclusive():
            self._set_partial_fit_classes(y, classes)
            return self._fit(X, y, sample_weight, incremental=True)

    def _set_partial_fit_classes(self, y, classes):
        """The classes of partial_fit's first call, checked on later ones."""
        if classes is not None:
            classes = unique_labels(_labels_array(classes))
        if not hasattr(self, "classes_"):
            if _is_multilabel(y):
                self._y_type = "multilabel-indicator"
                self.classes_ = np.arange(np.shape(y)[1])
            elif classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: "
                    "the labels of every batch, e.g. np.unique(y_all)."
                )
            else:
                self._y_type = "multiclass" if len(classes) > 2 else "binary"
                self.classes_ = classes
        elif classes is not None and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"classes={classes.tolist()} is not the same as on the first call "
                f"to partial_fit (or the last fit): {self.classes_.tolist()}."
            )

    # ---------------------------------------------------------------- hooks

    def _check_options(self):
        pass  # every combination of the parameters is valid

    def _prepare_targets(self, y):
        y = dense_if_sparse(y, "y")
        if y is None:
            return y  # scikit-learn's validation says y is required
        labels = _labels_array(y)
        if labels.dtype == object:
            missing = [i for i, v in enumerate(labels.ravel()) if _is_missing(v)]
            if missing:
                raise ValueError(
                    f"y has {len(missing)} missing labels (None, NaN or NA), e.g. at "
                    f"position {missing[0]}: remove those samples or give them "
                    "a label."
                )
        elif labels.dtype.kind == "f" and np.isnan(labels).any():
            raise ValueError(
                f"y has {int(np.isnan(labels).sum())} missing labels (NaN), e.g. "
                f"at position {int(np.flatnonzero(np.isnan(labels.ravel()))[0])}: "
                "remove those samples or give them a label."
            )
        return y

    def _encode_targets(self, y, dtype, reset, incremental):
        # The targets are scikit-learn's LabelBinarizer's: a 0/1 column for
        # two classes (1 for the second), one-hot columns for more, the
        # indicator matrix itself for multilabel y; the model keeps only
        # classes_ and the kind of y (no scikit-learn object in a pickle).
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        kind = _kind_of_targets(y)
        if kind == "multilabel-indicator":
            self._set_classes(kind, np.arange(y.shape[1]), incremental)
            return np.ascontiguousarray(y, dtype=dtype)
        if kind not in ("binary", "multiclass", None):
            check_classification_targets(y)  # refuses continuous targets
            raise ValueError(
                f"y is {kind}: the classifier takes one label per sample or a "
                "multilabel indicator matrix of 0 and 1."
            )
        labels, index = _unique_labels(y)
        if kind is None:  # integer labels: two or fewer are binary
            kind = "binary" if len(labels) <= 2 else "multiclass"
        self._set_classes(kind, labels, incremental)
        return self._encode_labels(labels, index, dtype)

    def _encode_labels(self, labels, index, dtype):
        """The targets of labels ``labels[index]``, ``labels`` among classes_
        (sorted), with one sort of y (its ``np.unique``) in all."""
        if len(labels) != len(self.classes_) or (labels != self.classes_).any():
            index = np.searchsorted(self.classes_, labels)[index]
        if self._y_type == "multiclass":
            Y = np.zeros((len(index), len(self.classes_)), dtype=dtype)
            Y[np.arange(len(index)), index] = 1
            return Y
        # Two classes: one column, 1 for the second; one class: zeros.
        return np.ascontiguousarray((index == 1)[:, None], dtype=dtype)

    def _set_classes(self, kind, labels, incremental):
        """Set classes_ from y's labels (a fit), or check them against it."""
        if incremental:
            self._check_known_labels(kind, labels)
        elif not hasattr(self, "classes_") or not self.warm_start:
            self._y_type, self.classes_ = kind, labels
        elif (kind == "multilabel-indicator") != (
            self._y_type == "multilabel-indicator"
        ):
            raise ValueError(
                f"warm_start can only be used where `y` is of the kind of the "
                f"previous call to fit: that y was {self._y_type}, this one is "
                f"{kind}. Fit with warm_start=False to start anew."
            )
        elif set(labels) != set(self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                f"in the previous call to fit. Previously got {self.classes_}, "
                f"`y` has {labels}. Fit with warm_start=False to start anew."
            )

    def _check_known_labels(self, kind, labels):
        multilabel = self._y_type == "multilabel-indicator"
        if (kind == "multilabel-indicator") != multilabel:
            raise ValueError(
                f"y is {kind}, but the model was trained on "
                f"{'a' if multilabel else 'no'} multilabel indicator matrix."
            )
        if multilabel:
            if len(labels) != len(self.classes_):
                raise ValueError(
                    f"y is a multilabel indicator matrix of {len(labels)} "
                    f"labels; the model was trained for {len(self.classes_)}."
                )
            return
        unknown = np.setdiff1d(labels, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels not in classes_ ({self.classes_.tolist()}): "
                f"{unknown.tolist()}. Pass every label in classes on the first "
                "call to partial_fit."
            )

    def _targets_of(self, y):
        """The network's targets (float64) for labels ``y``, in the fitted
        classes; nothing is changed (for explain_step)."""
        y = _labels_array(y)
        if self._y_type == "multilabel-indicator":
            self._check_known_labels("multilabel-indicator", np.arange(y.shape[1]))
            return y.astype(np.float64)
        labels, index = _unique_labels(y.ravel())
        self._check_known_labels("multiclass", labels)
        return self._encode_labels(labels, index, np.float64)

    def _target_weights(self, y):
        if self.class_weight is None:
            return None
        from sklearn.utils.class_weight import compute_sample_weight

        if isinstance(self.class_weight, dict):
            if _is_multilabel(y):
                raise ValueError(
                    "class_weight as a dict needs one label per sample; for a "
                    "multilabel y use 'balanced' or sample_weight."
                )
            known = set(self.classes_)
            unknown = [c for c in self.class_weight if c not in known]
            if unknown:
                raise ValueError(
                    f"class_weight names classes that are not in y's classes "
                    f"{self.classes_.tolist()}: {unknown}."
                )
            for label, weight in self.class_weight.items():
                if not (isinstance(weight, Real) and 0 <= weight < np.inf):
                    raise ValueError(
                        "class_weight must give each class a non-negative finite "
                        f"number, got {weight!r} for class {label!r}."
                    )
            weights = {c: self.class_weight.get(c, 1.0) for c in self.classes_}
            return compute_sample_weight(weights, y)
        return compute_sample_weight(self.class_weight, y)

    @property
    def _output_activation(self):
        return "softmax" if self._y_type == "multiclass" else "logistic"

    @property
    def _output_activation_origin(self):
        return f"y is {self._y_type}"

    @property
    def _loss_spec(self):
        """(loss code, unused threshold), as the kernels take them."""
        softmax = self.out_activation_ == "softmax"
        return (LOG_LOSS if softmax else BINARY_LOG_LOSS, 1.0)

    def _validation_score(self, P, Y_val, w_val):
        from sklearn.metrics import accuracy_score  # import when needed

        # Of the decoded labels, as scikit-learn: a score even where the
        # outputs overflowed (their labels are then mostly wrong).
        return accuracy_score(self._decode(Y_val), self._decode(P), sample_weight=w_val)

    def _stratify(self, Y):
        # As scikit-learn: stratified when the network has one output (two
        # classes), on the encoded targets.
        return Y.astype(bool) if Y.shape[1] == 1 else None

    def _decode(self, P):
        """Labels of outputs (or encoded targets) ``P``, as LabelBinarizer's
        inverse_transform: the most probable class, the second of two when
        its probability exceeds 0.5, each label whose probability does."""
        if self._y_type == "multiclass":
            return self.classes_.take(P.argmax(axis=1), mode="clip")
        if self._y_type == "multilabel-indicator":
            return (P > 0.5).astype(int)
        if len(self.classes_) == 1:
            return np.repeat(self.classes_[0], len(P))
        return self.classes_[(P[:, 0] > 0.5).astype(int)]

    # -------------------------------------------------------------- predict

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input; computed in the dtype of the network's weights.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels of y's kind (from ``classes_``), or a label indicator
            matrix for a multilabel model.
        """
        return self._decode(self._network_outputs(X))

    def predict_proba(self, X):
        """Probability of every class (or label).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``. Two classes: the
            probabilities of both; several: rows sum to 1; multilabel: the
            probability of each label. A probability too small for the
            dtype is given as its smallest positive number (about 5e-324 in
            float64, 1e-45 in float32), never 0, so that its logarithm is
            :meth:`predict_log_proba`'s.
        """
        return self._probabilities(self._network_outputs(X))

    def _probabilities(self, P):
        """predict_proba's columns from the network's outputs ``P``."""
        if P.shape[1] == 1 and self._y_type != "multilabel-indicator":
            P = np.hstack([1 - P, P])
        return np.maximum(P, _smallest_positive(P.dtype), out=P)

    def predict_log_proba(self, X):
        """Logarithm of the probability of every class (or label).

        Where a probability underflows (scikit-learn's log gives -inf there),
        it comes from the last pre-activation ``z`` as a log-softmax,
        ``z - max(z) - log(sum(exp(z - max(z))))``, or a log-sigmoid,
        ``-log(1 + exp(-z))``: finite for inputs however far from the
        training data, down to the logarithm of the dtype's smallest positive
        number (about -744 in float64, -103 in float32), which is
        ``log(predict_proba(X))`` there. Elsewhere it is the logarithm of
        :meth:`predict_proba`, so that the two agree (a probability that
        rounds to 1 has the logarithm 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        Z = self._network_outputs(X, output_code=IDENTITY)
        # One forward pass: the output layer's kernel applied to the logits
        # (bias included, so with a zero bias) gives predict_proba's bits.
        P = Z.copy()
        code = OUTPUT_CODES[self.out_activation_]
        add_bias_and_activate(P, np.zeros(P.shape[1], P.dtype), code)
        P = self._probabilities(P)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.out_activation_ == "softmax":
                shifted = Z - Z.max(axis=1, keepdims=True)
                exact = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            else:
                exact = -np.logaddexp(0, -Z)
                if P.shape[1] == 2 and Z.shape[1] == 1:
                    exact = np.hstack([-np.logaddexp(0, Z), exact])
            log_p = np.log(P)
        tiny = np.finfo(P.dtype).tiny
        underflow = P < tiny
        log_p[underflow] = np.maximum(exact[underflow], log_p[underflow])
        return log_p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _smallest_positive(dtype):
    """The smallest positive number of a floating-point ``dtype``."""
    return np.nextafter(dtype.type(0), dtype.type(1))


def _kind_of_targets(y):
    """scikit-learn's ``type_of_target(y)``, or None for a 1-D array of
    integers or booleans, which is binary or multiclass by its number of
    labels (known after their sort; type_of_target would sort them once more:
    about a millisecond on 8192 labels)."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biu":
        return None
    return type_of_target(y)


def _unique_labels(y):
    """``np.unique(y, return_inverse=True)``, or scikit-learn's error for
    labels that do not sort (strings mixed with numbers). Labels held as
    Python objects (e.g. a pandas Series of categories) come back as an array
    of their own type, as scikit-learn's ``unique_labels`` gives them."""
    try:
        labels, index = np.unique(y, return_inverse=True)
    except TypeError:
        unique_labels(y)  # raises "Mix of label input types"
        raise
    if labels.dtype == object:
        labels = np.asarray(labels.tolist())
    return labels, index


def _labels_array(y):
    """y as a NumPy array, without converting its labels."""
    return np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()


def _is_missing(value):
    """None, NaN or pandas' NA (recognised without importing pandas)."""
    if value is None or type(value).__name__ == "NAType":
        return True
    return isinstance(value, float | np.floating) and value != value


def _is_multilabel(y):
    return type_of_target(y) == "multilabel-indicator"



"""Loss curves of a fitted estimator, drawn in scikit-learn's Display style.

matplotlib is imported when a curve is drawn, never by ``import fastbp``.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay"]


class LossCurveDisplay:
    """The training loss of every epoch, with the validation loss, the
    validation score and the kept (best) epoch when early stopping ran.

    Build it with :meth:`from_estimator`; ``plot`` draws it. As scikit-learn's
    displays, the attributes hold what was drawn.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch (of each iteration for L-BFGS).
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the validation split of each epoch (early stopping).
    validation_scores : array-like of shape (n_epochs,), default=None
        Score on the validation split of each epoch (R^2 or accuracy).
    best_epoch : int, default=None
        The epoch (from 1) whose weights the estimator kept, marked: with
        early stopping, that of the best validation score; None (no mark)
        otherwise, as the estimator keeps the last epoch's weights.
    estimator_name : str, default=None
        Shown in the title.
    score_name : str, default="validation score"
        Label of the validation score's axis.
    x_label : str, default="epoch"
        Label of the horizontal axis ("iteration" for L-BFGS).

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_line_ : matplotlib Line2D or None
        The validation loss.
    score_line_ : matplotlib Line2D or None
        The validation score, on its own axis (``score_ax_``, on the right).
    best_line_ : matplotlib Line2D or None
        The vertical mark at the best epoch.
    ax_ : matplotlib Axes
        The axes of the losses.
    score_ax_ : matplotlib Axes or None
        The axes of the validation score.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from fastbp import BackpropClassifier, LossCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> model = BackpropClassifier((32,), early_stopping=True, random_state=0)
    >>> display = LossCurveDisplay.from_estimator(model.fit(X / 16, y))
    >>> display.line_.get_ydata().shape == (model.n_iter_,)
    True
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        best_epoch=None,
        estimator_name=None,
        score_name="validation score",
        x_label="epoch",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name
        self.score_name = score_name
        self.x_label = x_label

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Draw the curves of a fitted fastbp estimator.

        Parameters
        ----------
        estimator : BackpropRegressor or BackpropClassifier
            A fitted estimator (any that has ``loss_curve_``).
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        name : str, default=None
            Title; the estimator's class name when None.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_is_fitted(estimator, "loss_curve_")
        scores = getattr(estimator, "validation_scores_", None)
        losses = np.asarray(estimator.loss_curve_, dtype=float)
        best_epoch = None  # without early stopping the last epoch is kept
        if scores:
            finite = np.where(np.isfinite(scores), scores, -np.inf)
            best_epoch = int(np.argmax(finite)) + 1
        lbfgs = getattr(estimator, "solver", None) == "lbfgs"
        display = cls(
            loss_curve=losses,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=scores,
            best_epoch=best_epoch,
            estimator_name=name or type(estimator).__name__,
            score_name=(
                "validation accuracy" if is_classifier(estimator) else "validation R^2"
            ),
            x_label="iteration" if lbfgs else "epoch",
        )
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        display : LossCurveDisplay
            This object, with the drawn artists as attributes.
        """
        import matplotlib.pyplot as plt  # only when drawing

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        (self.line_,) = ax.plot(epochs, self.loss_curve, label="training loss")
        self.validation_line_ = self.score_line_ = self.score_ax_ = None
        self.best_line_ = None
        handles = [self.line_]
        if self.validation_loss_curve is not None:
            (self.validation_line_,) = ax.plot(
                epochs, self.validation_loss_curve, label="validation loss"
            )
            handles.append(self.validation_line_)
        if self.validation_scores is not None:
            self.score_ax_ = ax.twinx()
            (self.score_line_,) = self.score_ax_.plot(
                epochs, self.validation_scores, color="tab:green",
                linestyle=":", label=self.score_name,
            )  # fmt: skip
            self.score_ax_.set_ylabel(self.score_name)
            handles.append(self.score_line_)
        if self.best_epoch is not None:
            self.best_line_ = ax.axvline(
                self.best_epoch, color="gray", linestyle="--",
                label=f"best {self.x_label} ({self.best_epoch})",
            )  # fmt: skip
            handles.append(self.best_line_)
        ax.set_xlabel(self.x_label)
        ax.set_ylabel("loss")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        ax.legend(handles=handles, loc="upper right")
        self.ax_, self.figure_ = ax, ax.figure
        return self

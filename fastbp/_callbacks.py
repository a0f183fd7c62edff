"""scikit-learn's callback framework (scikit-learn 1.9 and later).

``BackpropRegressor`` reports its fit as one task with one subtask per epoch
(per iteration for L-BFGS), so that ``set_callbacks(ProgressBar())`` shows a
bar and ``ScoringMonitor`` scores the model after every epoch. With an older
scikit-learn, which has no such framework, the hooks do nothing.
"""

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """No callback support before scikit-learn 1.9."""

    def with_callbacks(method):
        return method


__all__ = ["CallbackSupportMixin", "fit_context", "with_callbacks"]


class _NoContext:
    """Stands in for a callback context when callbacks are unavailable."""

    def subcontext(self, **kwargs):
        return self

    def call_on_fit_task_begin(self, **kwargs):
        return self

    def call_on_fit_task_end(self, **kwargs):
        return False


def fit_context(estimator, max_subtasks):
    """The root callback context of a fit with up to ``max_subtasks`` epochs.

    Without callbacks (none set, none propagated from a meta-estimator) the
    hooks do nothing: scikit-learn's context keeps every subtask's context
    until the fit ends, which would make a fit's memory grow with its number
    of epochs for no one's benefit.
    """
    has_callbacks = getattr(estimator, "_skl_callbacks", None) or hasattr(
        estimator, "_parent_callback_ctx"
    )
    if has_callbacks and hasattr(estimator, "_init_callback_context"):
        return estimator._init_callback_context(max_subtasks=max_subtasks)
    return _NoContext()

"""scikit-learn's callback framework: one subtask per epoch."""

import numpy as np
import pytest

from fastbp import BackpropRegressor

callback = pytest.importorskip("sklearn.callback")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_data(n=200):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(n, 3))
    return X, np.sin(2 * X[:, 0]) + X[:, 1]


@pytest.mark.parametrize("solver, task", [("adam", "epoch"), ("lbfgs", "iteration")])
def test_scoring_monitor_scores_every_epoch(solver, task):
    X, y = make_data()
    monitor = callback.ScoringMonitor(scoring="r2")
    model = BackpropRegressor((8,), solver=solver, max_iter=6, random_state=0)
    model.set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs()  # the most recent run
    rows = [row for row in log.data if row["task_name"] == task]
    assert len(rows) == model.n_iter_ == 6
    # The last subtask's score is the fitted model's.
    assert rows[-1]["r2"] == pytest.approx(model.score(X, y), rel=1e-9)
    assert len({row["r2"] for row in rows}) == 6  # the model changed each epoch


def test_a_callback_can_stop_training():
    class StopAfterThree:
        def setup(self, estimator, context):
            self.epochs = 0

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context):
            if context.task_name == "epoch":
                self.epochs += 1
                return self.epochs == 3
            return False

    X, y = make_data()
    model = BackpropRegressor((8,), max_iter=50, random_state=0)
    model.set_callbacks(StopAfterThree()).fit(X, y)
    assert model.n_iter_ == 3 == len(model.loss_curve_)


def test_progress_bar_runs(capsys):
    pytest.importorskip("rich")
    X, y = make_data()
    model = BackpropRegressor((8,), max_iter=5, random_state=0)
    model.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert model.n_iter_ == 5

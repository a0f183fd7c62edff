"""scikit-learn's callback framework: one subtask per epoch, for both
estimators."""

import pytest
from conftest import sine_plus_linear
from sklearn.metrics import get_scorer

callback = pytest.importorskip("sklearn.callback")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("solver, task", [("adam", "epoch"), ("lbfgs", "iteration")])
def test_scoring_monitor_scores_every_epoch(estimator, solver, task):
    X, y = estimator.make_data(200, 3, sine_plus_linear)
    scoring = estimator.smooth_scoring
    monitor = callback.ScoringMonitor(scoring=scoring)
    model = estimator.cls((8,), solver=solver, max_iter=6, random_state=0)
    model.set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs()  # the most recent run
    rows = [row for row in log.data if row["task_name"] == task]
    assert len(rows) == model.n_iter_ == 6
    # The last subtask's score is the fitted model's.
    fitted_score = get_scorer(scoring)(model, X, y)
    assert rows[-1][scoring] == pytest.approx(fitted_score, rel=1e-9)
    assert len({row[scoring] for row in rows}) == 6  # the model changed each epoch


def test_a_callback_can_stop_training(estimator):
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

    X, y = estimator.make_data(200, 3, sine_plus_linear)
    model = estimator.cls((8,), max_iter=50, random_state=0)
    model.set_callbacks(StopAfterThree()).fit(X, y)
    assert model.n_iter_ == 3 == len(model.loss_curve_)


def test_progress_bar_runs(estimator, capsys):
    pytest.importorskip("rich")
    X, y = estimator.make_data(200, 3, sine_plus_linear)
    model = estimator.cls((8,), max_iter=5, random_state=0)
    model.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert model.n_iter_ == 5

"""UCI regression benchmark: ``python -m benchmarks.uci``.

Runs, on the published splits of every data set in the data directory:

- the paper's protocol (Hernandez-Lobato & Adams 2015, Table 1, column BP),
  for fastbp and scikit-learn's MLPRegressor in the same run: inputs and
  target standardised on the training split, one hidden layer of 50 ReLU
  units, 40 epochs of Adam with batch 32, learning rate and alpha picked on a
  20% validation split of the training split; test RMSE in the target's
  units, mean and standard error over splits; seconds per fit;
- a tuned mode that spends fastbp's speed on accuracy: 1 to 4 hidden layers
  and up to 400 epochs, chosen on the same validation split.

Writes ``uci.md``, ``uci.json`` and ``uci.png`` (with matplotlib) to --out.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from fastbp import BackpropRegressor
from fastbp.datasets import get_data_home, list_uci, load_uci, n_splits

from .machine import machine_info

# Table 1 (BP column) and the best BP with 1-4 layers from the supplement.
PAPER_BP = {
    "concrete": (5.977, 0.2207),
    "energy": (1.098, 0.0738),
    "kin8nm": (0.091, 0.0015),
    "power-plant": (4.182, 0.0402),
    "wine-quality-red": (0.645, 0.0098),
    "yacht": (1.182, 0.1645),
}
PAPER_BEST_BP = {
    "concrete": 5.396,
    "energy": 0.628,
    "kin8nm": 0.071,
    "power-plant": 4.112,
    "wine-quality-red": 0.645,
    "yacht": 1.107,
}

HIDDEN, EPOCHS, BATCH = 50, 40, 32
LEARNING_RATES = (1e-3, 1e-2)
ALPHAS = (1e-4, 1e-2)
TUNED_DEPTHS = (1, 2, 3, 4)
TUNED_ALPHAS = (1e-4,)
TUNED_CHECKPOINTS = (40, 100, 200, 400)
VALIDATION_FRACTION = 0.2
ESTIMATORS = {"fastbp": BackpropRegressor, "scikit-learn": MLPRegressor}


def progress(message):
    print(message, file=sys.stderr, flush=True)


def standardised_split(name, split, data_home):
    """Train/validation/test arrays, standardised on the training split."""
    X_train, X_test, y_train, y_test = load_uci(name, split, data_home)
    x_scaler = StandardScaler().fit(X_train)
    y_mean, y_std = y_train.mean(), y_train.std()
    X_train, X_test = x_scaler.transform(X_train), x_scaler.transform(X_test)
    z_train = (y_train - y_mean) / y_std
    rng = np.random.RandomState(split)
    order = rng.permutation(len(X_train))
    n_val = int(round(VALIDATION_FRACTION * len(X_train)))
    val, fit = order[:n_val], order[n_val:]
    return {
        "train": (X_train, z_train),
        "fit": (X_train[fit], z_train[fit]),
        "val": (X_train[val], z_train[val]),
        "test": (X_test, y_test),
        "unscale": lambda z: z * y_std + y_mean,
    }


def make_model(implementation, hidden, learning_rate, alpha, epochs, seed):
    return ESTIMATORS[implementation](
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="adam",
        learning_rate_init=learning_rate,
        alpha=alpha,
        batch_size=BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=seed,
    )


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_split_rmse(model, data):
    """RMSE on the test split, in the target's original units."""
    X_test, y_test = data["test"]
    return rmse(data["unscale"](model.predict(X_test)), y_test)


def paper_protocol(implementation, data, seed):
    """Pick (learning rate, alpha) on validation, refit, score on test."""
    seconds, best = [], None
    for learning_rate in LEARNING_RATES:
        for alpha in ALPHAS:
            model = make_model(implementation, (HIDDEN,), learning_rate, alpha,
                               EPOCHS, seed)  # fmt: skip
            start = time.perf_counter()
            model.fit(*data["fit"])
            seconds.append(time.perf_counter() - start)
            score = rmse(model.predict(data["val"][0]), data["val"][1])
            if best is None or score < best[0]:
                best = (score, learning_rate, alpha)
    _, learning_rate, alpha = best
    model = make_model(implementation, (HIDDEN,), learning_rate, alpha, EPOCHS, seed)
    start = time.perf_counter()
    model.fit(*data["train"])
    seconds.append(time.perf_counter() - start)
    return {
        "rmse": test_split_rmse(model, data),
        "seconds_per_fit": float(np.mean(seconds)),
        "learning_rate": learning_rate,
        "alpha": alpha,
    }


class ValidationCheckpoints:
    """Callback: validation RMSE after the epochs in ``at``, during one fit."""

    def __init__(self, X_val, y_val, at):
        self.X_val, self.y_val, self.at = X_val, y_val, set(at)
        self.scores = {}

    def setup(self, estimator, context):
        self.epoch, self.scores = 0, {}

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.epoch += 1
            if self.epoch in self.at:
                predicted = estimator.predict(self.X_val)
                self.scores[self.epoch] = rmse(predicted, self.y_val)
        return False


def tuned(data, seed):
    """fastbp: depth, epochs, learning rate and alpha chosen on validation.

    One fit of the largest number of epochs per configuration; a callback
    scores the validation split at each candidate number of epochs (a fit of
    fewer epochs from the same random_state is the same run, stopped earlier).
    """
    best = None
    checkpoints = ValidationCheckpoints(*data["val"], TUNED_CHECKPOINTS)
    for depth in TUNED_DEPTHS:
        for learning_rate in LEARNING_RATES:
            for alpha in TUNED_ALPHAS:
                model = make_model("fastbp", (HIDDEN,) * depth, learning_rate,
                                   alpha, TUNED_CHECKPOINTS[-1], seed)  # fmt: skip
                model.set_callbacks(checkpoints).fit(*data["fit"])
                for epoch, score in checkpoints.scores.items():
                    if best is None or score < best[0]:
                        best = (score, depth, learning_rate, alpha, epoch)
    _, depth, learning_rate, alpha, epochs = best
    model = make_model("fastbp", (HIDDEN,) * depth, learning_rate, alpha, epochs,
                       seed)  # fmt: skip
    model.fit(*data["train"])
    return {
        "rmse": test_split_rmse(model, data),
        "depth": depth,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "alpha": alpha,
    }


def summarise(values):
    """Mean and standard error (NaN for a single value)."""
    values = np.asarray(values)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def run(names, splits, data_home, modes):
    results = {}
    for name in names:
        k = min(splits, n_splits(name, data_home))
        entry = {"splits": k}
        started = time.perf_counter()
        per_split = {impl: [] for impl in ESTIMATORS} if "paper" in modes else {}
        tuned_runs, tuned_seconds = [], 0.0
        for split in range(k):
            data = standardised_split(name, split, data_home)
            for implementation in per_split:
                per_split[implementation].append(
                    paper_protocol(implementation, data, seed=split)
                )
            if "tuned" in modes:
                start = time.perf_counter()
                tuned_runs.append(tuned(data, seed=split))
                tuned_seconds += time.perf_counter() - start
            progress(f"{name} split {split + 1}/{k} done")
        for implementation, runs in per_split.items():
            mean, se = summarise([r["rmse"] for r in runs])
            entry[implementation] = {
                "rmse_mean": mean,
                "rmse_se": se,
                "seconds_per_fit": float(np.mean([r["seconds_per_fit"] for r in runs])),
                "runs": runs,
            }
        if tuned_runs:
            mean, se = summarise([r["rmse"] for r in tuned_runs])
            entry["fastbp_tuned"] = {"rmse_mean": mean, "rmse_se": se,
                                     "seconds": tuned_seconds,
                                     "runs": tuned_runs}  # fmt: skip
        entry["seconds"] = time.perf_counter() - started
        results[name] = entry
        progress(f"{name}: {entry['seconds']:.0f} s")
    return results


def write_markdown(path, report):
    results = report["results"]
    lines = ["# UCI regression benchmark", "",
             f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} "
             "cores. Test RMSE, mean +- standard error over splits.", ""]  # fmt: skip
    if any("fastbp" in r for r in results.values()):
        lines += [
            "## Paper protocol (50 ReLU, 40 epochs, adam, batch 32)", "",
            "| data set | splits | paper BP | fastbp | scikit-learn | "
            "fastbp s/fit | scikit-learn s/fit | speed-up |",
            "|---|---|---|---|---|---|---|---|",
        ]  # fmt: skip
        for name, r in results.items():
            if "fastbp" not in r:
                continue
            paper = PAPER_BP.get(name)
            fast, ref = r["fastbp"], r["scikit-learn"]
            lines.append(
                f"| {name} | {r['splits']} | "
                + (f"{paper[0]:.3f} +- {paper[1]:.3f}" if paper else "-")
                + f" | {fast['rmse_mean']:.3f} +- {fast['rmse_se']:.3f}"
                f" | {ref['rmse_mean']:.3f} +- {ref['rmse_se']:.3f}"
                f" | {fast['seconds_per_fit']:.3f} | {ref['seconds_per_fit']:.3f}"
                f" | {ref['seconds_per_fit'] / fast['seconds_per_fit']:.1f}x |"
            )
    if any("fastbp_tuned" in r for r in results.values()):
        lines += [
            "", "## Tuned fastbp (1-4 layers of 50, up to 400 epochs)", "",
            "| data set | splits | paper best BP (1-4 layers) | fastbp tuned | "
            "depths chosen | epochs chosen | tuning seconds |",
            "|---|---|---|---|---|---|---|",
        ]  # fmt: skip
        for name, r in results.items():
            if "fastbp_tuned" not in r:
                continue
            t = r["fastbp_tuned"]
            depths = sorted({run["depth"] for run in t["runs"]})
            epochs = sorted({run["epochs"] for run in t["runs"]})
            best = PAPER_BEST_BP.get(name)
            lines.append(
                f"| {name} | {r['splits']} | "
                + (f"{best:.3f}" if best else "-")
                + f" | {t['rmse_mean']:.3f} +- {t['rmse_se']:.3f} | {depths} |"
                f" {epochs} | {t.get('seconds', float('nan')):.0f} |"
            )
    lines.append("")
    path.write_text("\n".join(lines))


def mean_rmse(results, name, implementation):
    """Mean test RMSE of ``implementation`` on ``name``, NaN if not run."""
    return results[name].get(implementation, {}).get("rmse_mean", np.nan)


def write_figure(path, report):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib is not installed: no figure")
        return
    results = report["results"]
    names = [n for n in results if n in PAPER_BP]
    series = {
        "paper BP": [PAPER_BP[n][0] for n in names],
        "fastbp": [mean_rmse(results, n, "fastbp") for n in names],
        "scikit-learn": [mean_rmse(results, n, "scikit-learn") for n in names],
        "paper best BP (1-4 layers)": [PAPER_BEST_BP[n] for n in names],
        "fastbp tuned": [mean_rmse(results, n, "fastbp_tuned") for n in names],
    }
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.16
    for i, (label, values) in enumerate(series.items()):
        relative = np.array(values) / np.array(series["paper BP"])
        ax.bar(np.arange(len(names)) + (i - 2) * width, relative, width, label=label)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("test RMSE / paper's BP RMSE")
    ax.set_title("UCI regression benchmark (lower is better)")
    ax.set_ylim(0, 1.3)
    ax.legend(fontsize=8, ncol=5, loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--mode", choices=["paper", "tuned", "both"], default="both")
    parser.add_argument("--out", type=Path, default=Path("uci-results"))
    args = parser.parse_args(argv)
    names = args.datasets or list_uci(args.data_home)
    if not names:
        parser.error(f"no data set found in {get_data_home(args.data_home)}")
    modes = {"paper", "tuned"} if args.mode == "both" else {args.mode}
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up = make_model("fastbp", (HIDDEN,), 1e-3, 1e-4, 1, 0)
        warm_up.fit(np.zeros((BATCH, 2)), np.zeros(BATCH))  # compile before timing
        results = run(names, args.splits, args.data_home, modes)
    report = {"machine": machine_info(), "results": results,
              "seconds": time.perf_counter() - started}  # fmt: skip
    (args.out / "uci.json").write_text(json.dumps(report, indent=1))
    write_markdown(args.out / "uci.md", report)
    write_figure(args.out / "uci.png", report)
    progress(f"done in {report['seconds']:.0f} s: {args.out}/uci.md, uci.json, uci.png")


if __name__ == "__main__":
    main()

"""Classification on real data: ``python -m benchmarks.classify --out DIR``.

fastbp's BackpropClassifier and scikit-learn's MLPClassifier in the same
run, with the same network, settings and random_state, on

- Adult (UCI census income, its published train/test split): a Pipeline of a
  ColumnTransformer (numeric columns standardised, categorical ones one-hot
  encoded with ``?`` as a category of its own; scikit-learn's default
  sparse output) and the network;
- scikit-learn's digits: a fixed stratified 75/25 split, standardised.

Each data set's preprocessing is fitted once, outside the timing; fastbp's
kernels are compiled before it; the fits alternate (their order turning from
one repeat to the next) and the median seconds per fit is reported.
scikit-learn is timed twice: with its BLAS's default threads, and with one
BLAS thread, as fastbp trains. Every fit runs exactly its number of
epochs (``tol=0``, no early stopping). Writes ``classify.md``,
``classify.json`` and, with matplotlib, ``classify.png`` to --out.
"""

import argparse
import json
import os
import sys
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from fastbp import BackpropClassifier
from fastbp.datasets import get_data_home, load_adult

from .machine import SETTLE_SECONDS, gemm_peak, machine_info, settle

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "datasets"
# name: (estimator, BLAS threads during its fits; None leaves the library's
# default). fastbp holds BLAS at one thread itself; scikit-learn uses every
# BLAS thread, and is also timed with one, so that the speed-up can be read
# apart from the thread count (and from other processes' load, which slows
# a multithreaded BLAS far more than a single-threaded one).
IMPLEMENTATIONS = {
    "fastbp": (BackpropClassifier, None),
    "scikit-learn": (MLPClassifier, None),
    "scikit-learn, 1 BLAS thread": (MLPClassifier, 1),
}
REFERENCE = "scikit-learn"
# One network and one set of settings per data set, for both estimators. The
# batch is scikit-learn's default ('auto': 200 rows). Adult: 20 epochs reach
# test accuracy 0.855 and the lowest test log loss of 20, 25 and 30 epochs.
_COMMON = {
    "hidden_layer_sizes": (64,),
    "activation": "relu",
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": 200,
    "learning_rate_init": 1e-3,
}
SETTINGS = {"adult": {**_COMMON, "max_iter": 20}, "digits": {**_COMMON, "max_iter": 100}}
RANDOM_STATE = 0
DIGITS_TEST_SIZE = 0.25


def progress(message):
    print(message, file=sys.stderr, flush=True)


def default_data_home():
    """$FASTBP_DATA_HOME, else the shared data beside the project, else
    fastbp's default data directory."""
    if os.environ.get("FASTBP_DATA_HOME"):
        return get_data_home()
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    return get_data_home()


def adult_task(data_home=None, n_train=None, n_test=None):
    """Adult's published split (the first ``n_train``/``n_test`` rows of
    each, if given) and its preprocessing (a ColumnTransformer, unfitted)."""
    X_train, X_test, y_train, y_test = load_adult(data_home)
    columns = ColumnTransformer(
        [
            ("numeric", StandardScaler(), make_column_selector(dtype_include="number")),
            # scikit-learn's defaults: sparse one-hot columns, and a CSR
            # output (14 of 108 entries stored per row, below the
            # transformer's sparse_threshold); both estimators get the same
            # matrix. '?' is a string like the others: a category of its own.
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )
    return {
        "name": "adult",
        "data": (X_train[:n_train], X_test[:n_test], y_train[:n_train],
                 y_test[:n_test]),  # fmt: skip
        "preprocess": columns,
        "split": "published train/test split (adult.data / adult.test)",
    }


def digits_task():
    """scikit-learn's digits, a fixed stratified split, a StandardScaler."""
    X, y = load_digits(return_X_y=True)
    data = train_test_split(X, y, test_size=DIGITS_TEST_SIZE,
                            random_state=RANDOM_STATE, stratify=y)  # fmt: skip
    return {
        "name": "digits",
        "data": tuple(data),
        "preprocess": StandardScaler(),
        "split": f"train_test_split(test_size={DIGITS_TEST_SIZE}, "
        f"random_state={RANDOM_STATE}, stratify=y)",
    }


def make_estimator(implementation, settings):
    # tol=0 and n_iter_no_change=max_iter: no fit stops before max_iter.
    return IMPLEMENTATIONS[implementation][0](
        **settings,
        tol=0.0,
        n_iter_no_change=settings["max_iter"],
        early_stopping=False,
        random_state=RANDOM_STATE,
    )


def _input_kind(entry):
    """How the network's input was stored, for the report's notes."""
    density = entry.get("input_density")
    if density is None:
        return " (dense)"
    return f" (a sparse CSR matrix, {density:.1%} of its entries stored)"


def flops_per_fit(units, n_samples, epochs):
    """Multiply-adds of the matrix products, times 2: per sample, the forward
    pass and the weight gradients (fan_in * fan_out each, every layer) and the
    error sent back (every layer but the first, whose input needs none).
    Activations, the loss and the optimizer are not counted."""
    macs = [a * b for a, b in zip(units[:-1], units[1:])]
    return 2.0 * (2 * sum(macs) + sum(macs[1:])) * n_samples * epochs


def timed_fit(implementation, settings, X, y):
    """A fitted estimator and the seconds its fit took."""
    threads = IMPLEMENTATIONS[implementation][1]
    model = make_estimator(implementation, settings)
    limit = threadpool_limits(threads, "blas") if threads else nullcontext()
    with limit:
        start = time.perf_counter()
        model.fit(X, y)
        return model, time.perf_counter() - start


def run_task(task, settings, repeats):
    """Fit every implementation ``repeats`` times on ``task``; score on its
    test split. Returns the task's entry of the report."""
    X_train, X_test, y_train, y_test = task["data"]
    preprocess = clone(task["preprocess"]).fit(X_train)
    Z_train = preprocess.transform(X_train)
    names = list(IMPLEMENTATIONS)
    with warnings.catch_warnings():
        # Every fit runs max_iter epochs by design: "Maximum iterations".
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up = dict(settings, max_iter=1)  # compile the kernels before timing
        make_estimator("fastbp", warm_up).fit(Z_train[:400], y_train[:400])
        seconds = {name: [] for name in names}
        models = {}
        for repeat in range(repeats):
            shift = repeat % len(names)  # each goes first in turn
            for name in names[shift:] + names[:shift]:
                settle()
                models[name], elapsed = timed_fit(name, settings, Z_train, y_train)
                seconds[name].append(elapsed)
    results, predictions, probabilities = {}, {}, {}
    for name, model in models.items():
        pipeline = Pipeline([("preprocess", preprocess), ("classifier", model)])
        predictions[name] = pipeline.predict(X_test)
        probabilities[name] = pipeline.predict_proba(X_test)
        units = [model.n_features_in_, *settings["hidden_layer_sizes"],
                 model.n_outputs_]  # fmt: skip
        median = float(np.median(seconds[name]))
        flops = flops_per_fit(units, len(y_train), model.n_iter_)
        results[name] = {
            "accuracy": float(accuracy_score(y_test, predictions[name])),
            "log_loss": float(log_loss(y_test, probabilities[name],
                                       labels=model.classes_)),  # fmt: skip
            "seconds_per_fit": median,
            "seconds": seconds[name],
            "epochs": int(model.n_iter_),
            "flops_per_fit": flops,
            "gflops_per_second": flops / median / 1e9,
        }
    fast = names[0]
    others = names[1:]
    return {
        "split": task["split"],
        "n_train": int(Z_train.shape[0]),
        "n_test": int(len(y_test)),
        "n_features_in": int(X_train.shape[1]),
        "n_inputs": int(Z_train.shape[1]),
        # None for a dense input; else the share of its entries stored.
        "input_density": (
            Z_train.nnz / (Z_train.shape[0] * Z_train.shape[1])
            if hasattr(Z_train, "nnz") else None
        ),
        "n_outputs": int(models[fast].n_outputs_),
        "classes": [str(c) for c in models[fast].classes_],
        "settings": {
            **settings,
            "hidden_layer_sizes": list(settings["hidden_layer_sizes"]),
            "tol": 0.0,
            "n_iter_no_change": settings["max_iter"],
            "early_stopping": False,
            "random_state": RANDOM_STATE,
            "dtype": str(Z_train.dtype),
        },
        "repeats": repeats,
        "results": results,
        # scikit-learn's time / fastbp's, against each scikit-learn timing.
        "speedups": {
            name: results[name]["seconds_per_fit"] / results[fast]["seconds_per_fit"]
            for name in others
        },
        "speedup": results[REFERENCE]["seconds_per_fit"]
        / results[fast]["seconds_per_fit"],
        "identical_predictions": all(
            np.array_equal(predictions[fast], predictions[name]) for name in others
        ),
        "max_probability_difference": max(
            float(np.max(np.abs(probabilities[fast] - probabilities[name])))
            for name in others
        ),
    }


def run(tasks, repeats, settings=SETTINGS):
    """The report's entries, one per task of ``tasks``."""
    entries = {}
    for task in tasks:
        started = time.perf_counter()
        entries[task["name"]] = run_task(task, settings[task["name"]], repeats)
        progress(f"{task['name']}: {time.perf_counter() - started:.1f} s")
    return entries


def write_markdown(path, report):
    machine = report["machine"]
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['num_threads']} threads)"
        for b in machine["blas"]
    )
    lines = [
        "# Classification on real data: fastbp vs scikit-learn",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['system']}; "
        f"Python {machine['python']}; BLAS: {blas}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
        + ".",
    ]
    if "gemm_peak_float64_gflops" in machine:
        lines[-1] += (
            f" float64 GEMM peak (1024 x 1024, all BLAS threads): "
            f"{machine['gemm_peak_float64_gflops']:.1f} GFLOP/s."
        )
    lines += [
        "",
        "Same network, epochs, batch and random_state for both; seconds per fit "
        f"are medians over {report['repeats']} fits each (interleaved, each "
        f"after a pause of {SETTLE_SECONDS} s: the last library's threads stop "
        "spinning), "
        "preprocessing fitted once outside the timing, fastbp compiled before. "
        "Speed-up: that row's seconds per fit / fastbp's. fastbp trains with "
        "one BLAS thread; scikit-learn with the BLAS default, and again with "
        "one thread. GFLOP/s: the matrix products' FLOPs, counted as dense, "
        "per second of fit.",
        "",
        "| data set | network | epochs | batch | implementation | test accuracy "
        "| test log loss | s/fit | GFLOP/s | fastbp's speed-up | "
        "identical predictions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["datasets"].items():
        s = entry["settings"]
        units = [entry["n_inputs"], *s["hidden_layer_sizes"], entry["n_outputs"]]
        identical = "yes" if entry["identical_predictions"] else "no"
        for implementation, r in entry["results"].items():
            speedup = entry["speedups"].get(implementation)
            speedup = f"{speedup:.1f}x" if speedup else "-"
            lines.append(
                f"| {name} | {'-'.join(map(str, units))} | {r['epochs']} "
                f"| {s['batch_size']} | {implementation} | {r['accuracy']:.4f} "
                f"| {r['log_loss']:.4f} | {r['seconds_per_fit']:.3f} "
                f"| {r['gflops_per_second']:.1f} | {speedup} | {identical} |"
            )
    lines.append("")
    for name, entry in report["datasets"].items():
        lines.append(
            f"- {name}: {entry['n_train']} training and {entry['n_test']} test "
            f"rows, {entry['n_features_in']} columns giving {entry['n_inputs']} "
            f"inputs{_input_kind(entry)}; {entry['split']}; largest difference "
            "between the two "
            f"estimators' test probabilities {entry['max_probability_difference']:.1e}."
        )
    for name, reason in report.get("skipped", {}).items():
        lines.append(f"- {name} not run: {reason}")
    if "load_average_1min" in report:
        load = report["load_average_1min"]
        lines.append(
            f"- Load average (1 min) of the machine: {load['start']:.2f} at the "
            f"start, {load['end']:.2f} at the end ({machine['cores']} cores)."
        )
    lines += ["", f"Data read from: {report['data_home']}.",
              f"Whole run: {report['seconds']:.0f} s.", ""]  # fmt: skip
    path.write_text("\n".join(lines))


def write_figure(path, report):
    """Seconds per fit, per data set and implementation (log scale), with the
    test accuracy written on each bar. Returns why not, if not written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    names = list(report["datasets"])
    implementations = list(IMPLEMENTATIONS)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    width = 0.8 / len(implementations)
    for i, implementation in enumerate(implementations):
        entries = [report["datasets"][n]["results"][implementation] for n in names]
        x = np.arange(len(names)) + (i - (len(implementations) - 1) / 2) * width
        bars = ax.bar(x, [e["seconds_per_fit"] for e in entries], width,
                      label=implementation)  # fmt: skip
        for bar, entry in zip(bars, entries):
            ax.annotate(f"acc {entry['accuracy']:.3f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)  # fmt: skip
    labels = [
        f"{n}\nfastbp faster: "
        + ", ".join(f"{v:.1f}x" for v in report["datasets"][n]["speedups"].values())
        for n in names
    ]
    ax.set_xticks(np.arange(len(names)), labels)
    ax.set_yscale("log")
    ax.set_ylabel("seconds per fit (median, log scale)")
    title = "MLP classifier fit: fastbp vs scikit-learn"
    if "load_average_1min" in report:
        load = report["load_average_1min"]
        title += (
            f"\n(load average {load['start']:.1f} to {load['end']:.1f} on "
            f"{report['machine']['cores']} cores)"
        )
    ax.set_title(title, fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def write_report(out, report):
    """classify.json, classify.md and (with matplotlib) classify.png."""
    out.mkdir(parents=True, exist_ok=True)
    reason = write_figure(out / "classify.png", report)
    report["figure"] = None if reason else "classify.png"
    if reason:
        report["figure_skipped"] = reason
        print(f"No figure: {reason}.")
    (out / "classify.json").write_text(json.dumps(report, indent=1))
    write_markdown(out / "classify.md", report)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--data-home",
        type=Path,
        default=None,
        help="default: $FASTBP_DATA_HOME, else ../shared/datasets beside the "
        "project if it exists, else ~/fastbp_data",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    started = time.perf_counter()
    data_home = args.data_home or default_data_home()
    tasks, skipped = [], {}
    try:
        tasks.append(adult_task(data_home))
        print(f"Adult read from {data_home}")
    except FileNotFoundError as error:
        skipped["adult"] = str(error)
        print(f"Adult not found, running digits only: {error}")
    tasks.append(digits_task())
    load_before = os.getloadavg()
    machine = machine_info()
    machine["gemm_peak_float64_gflops"] = gemm_peak("float64", size=1024, repeats=5)
    report = {
        "machine": machine,
        "data_home": str(data_home),
        "repeats": args.repeats,
        "datasets": run(tasks, args.repeats),
        "skipped": skipped,
    }
    # Other processes on the machine slow scikit-learn's multithreaded BLAS
    # far more than fastbp's single-threaded one: the load is recorded.
    report["load_average_1min"] = {"start": load_before[0],
                                   "end": os.getloadavg()[0]}  # fmt: skip
    report["seconds"] = time.perf_counter() - started
    write_report(args.out, report)
    print((args.out / "classify.md").read_text())


if __name__ == "__main__":
    main()

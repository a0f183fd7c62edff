"""Benchmark report: ``python -m benchmarks.report [--quick] --out DIR``.

Run from the repository root. In one run it measures the machine's GEMM peak,
times one training epoch of every implementation over the grid of widths and
depths (medians of interleaved rounds, so that drift hits all implementations
alike), for regression and for 10-class classification (softmax, log loss),
weighs fastbp's softmax and log loss against the same network with identity
outputs, times prediction and cold start, and writes ``DIR/report.md``,
``DIR/report.json`` and ``DIR/depth_scaling.png`` (when matplotlib is
installed).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from fastbp._activations import OUTPUT_CODES, add_bias_and_activate
from fastbp._jit import jit
from fastbp._loss import LOG_LOSS, SQUARED_ERROR, loss_delta, loss_value

from .implementations import (
    IMPLEMENTATIONS,
    OWN,
    available_implementations,
    make_trainer,
    missing_reason,
)
from .inference import (
    ESTIMATORS,
    PREDICT_HIDDEN,
    PREDICT_ROWS,
    cold_starts,
    fitted_model,
    median_seconds,
    prediction_rows,
)
from .machine import SETTLE_SECONDS, gemm_peaks, machine_info, settle
from .memory import fit_memory
from .workload import (
    BATCH_SIZE,
    DTYPES,
    N_CLASSES,
    N_FEATURES,
    N_SAMPLES,
    SOFTMAX_OVERHEAD_SIZES,
    classification_grid,
    flops_per_epoch,
    grid,
    make_classification_data,
    make_data,
    one_hot,
)

# Each timed measurement trains for at least this long (several epochs for
# small networks), so that timer resolution and noise stay small.
MIN_MEASURE_SECONDS = 0.05
MAX_EPOCHS_PER_MEASURE = 50
# Two targets for the softmax output at width 64 with 10 classes: the
# softmax and the log loss add at most 10% to an epoch (classifier /
# regressor with identity outputs <= SOFTMAX_OVERHEAD_RATIO), and the
# classifier's epoch costs no more than the regressor's plus the softmax's
# own steps (see measure_softmax_overhead).
SOFTMAX_OVERHEAD_RATIO = 1.10
SOFTMAX_OVERHEAD_TARGET = (
    f"classifier / regressor <= {SOFTMAX_OVERHEAD_RATIO}; "
    "classifier <= regressor + the softmax's own steps"
)
# Repeats of an epoch's output steps, timed alone.
OUTPUT_STEPS_REPEATS = 200
# A ratio judged against a target gets at least this many rounds (fastbp's
# epochs at width 64 take milliseconds, so they cost about a second a size).
SOFTMAX_OVERHEAD_MIN_ROUNDS = 9


def progress(message):
    print(message, file=sys.stderr, flush=True)


def time_trainers(trainers, rounds, same_epochs=False):
    """Seconds per epoch of each trainer of ``{name: trainer}``, one value
    per round: compiled first, then calibrated (epochs per measure, the same
    for all with ``same_epochs``), then timed in rounds whose order rotates."""
    names = list(trainers)
    for trainer in trainers.values():
        trainer.compile()
    epochs = {}
    for name, trainer in trainers.items():  # calibrate: epochs per measure
        start = time.perf_counter()
        trainer.train(1)
        estimate = time.perf_counter() - start
        epochs[name] = int(
            min(
                MAX_EPOCHS_PER_MEASURE,
                max(1, math.ceil(MIN_MEASURE_SECONDS / estimate)),
            )
        )
    if same_epochs:
        epochs = dict.fromkeys(names, max(epochs.values()))
    seconds = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)  # rotate the order from round to round
        for name in names[shift:] + names[:shift]:
            settle()
            start = time.perf_counter()
            trainers[name].train(epochs[name])
            seconds[name].append((time.perf_counter() - start) / epochs[name])
    return seconds, epochs


def time_size(width, depth, X, y, names, rounds, task="regression"):
    """Seconds per epoch of each implementation, one value per round."""
    trainers = {
        name: make_trainer(name, X, y, (width,) * depth, task) for name in names
    }
    return time_trainers(trainers, rounds)


def measure_grid(sizes, rounds, names, peaks, n_samples=N_SAMPLES, task="regression"):
    """Time every (dtype, width, depth) of ``sizes``; one row per size.

    ``task`` "regression" trains on :func:`workload.make_data` (one output),
    "classification" on :func:`workload.make_classification_data`
    (``N_CLASSES`` softmax outputs).
    """
    make = make_classification_data if task == "classification" else make_data
    n_outputs = N_CLASSES if task == "classification" else 1
    data = {dtype: make(dtype, n_samples) for dtype in {s[0] for s in sizes}}
    rows = []
    for index, (dtype, width, depth) in enumerate(sizes, start=1):
        seconds, epochs = time_size(width, depth, *data[dtype], names, rounds, task)
        flops = flops_per_epoch(width, depth, n_samples, n_outputs)
        row = {
            "task": task,
            "dtype": dtype,
            "width": width,
            "depth": depth,
            "n_outputs": n_outputs,
            "flops_per_epoch": flops,
            "gemm_limit_seconds": flops / (peaks[dtype] * 1e9),
            "implementations": {},
        }
        for name in names:
            median = float(np.median(seconds[name]))
            gflops = flops / median / 1e9
            row["implementations"][name] = {
                "seconds_per_epoch": median,
                "rounds": seconds[name],
                "epochs_per_measure": epochs[name],
                "gflops": gflops,
                "percent_of_peak": 100.0 * gflops / peaks[dtype],
            }
        rows.append(row)
        summary = ", ".join(
            f"{name} {row['implementations'][name]['seconds_per_epoch']:.4g}"
            for name in names
        )
        progress(
            f"[{index}/{len(sizes)}] {task}, {dtype} width {width} x {depth}: "
            f"{summary} s/epoch"
        )
    return rows


@jit
def _output_steps(Zs, b, Ys, w, out, delta, activation, loss, reps):
    """An epoch's output steps, ``reps`` times: for each batch ``k``, the
    outputs ``Zs[k]`` copied into ``out``, their activation (bias included),
    the loss for the targets ``Ys[k]`` and the output error."""
    total = 0.0
    for _ in range(reps):
        for k in range(Zs.shape[0]):
            out[:] = Zs[k]
            add_bias_and_activate(out, b, activation)
            total += loss_value(out, Ys[k], w, loss, 1.0)
            loss_delta(out, Ys[k], w, delta, 1.0, loss, 1.0)
    return total


def softmax_steps_per_epoch(dtype, n_samples, n_classes, repeats=OUTPUT_STEPS_REPEATS):
    """Seconds per epoch that the softmax's own steps take, timed alone on
    an epoch's (batch, n_classes) outputs, each batch its own logits and
    labels (as in training, where the labels' positions differ from batch to
    batch): the softmax (bias, maximum, exp, sum, division), the log loss
    and its output error, less the identity output's and the squared
    error's (which the regressor's epoch has; the copy of the outputs that
    both take cancels)."""
    rng = np.random.default_rng(0)
    batches = math.ceil(n_samples / BATCH_SIZE)
    Zs = rng.standard_normal((batches, BATCH_SIZE, n_classes)).astype(dtype)
    labels = rng.integers(0, n_classes, batches * BATCH_SIZE)
    Ys = one_hot(labels, n_classes, dtype).reshape(batches, BATCH_SIZE, n_classes)
    b = np.zeros(n_classes, dtype)
    w = np.ones(BATCH_SIZE, dtype)
    out, delta = np.empty_like(Zs[0]), np.empty_like(Zs[0])
    steps = {}
    for name, activation, loss in (
        ("softmax", OUTPUT_CODES["softmax"], LOG_LOSS),
        ("identity", OUTPUT_CODES["identity"], SQUARED_ERROR),
    ):
        _output_steps(Zs[:1], b, Ys[:1], w, out, delta, activation, loss, 1)  # compile
        times = []
        for _ in range(5):
            start = time.perf_counter()
            _output_steps(Zs, b, Ys, w, out, delta, activation, loss, repeats)
            times.append((time.perf_counter() - start) / repeats)
        steps[name] = float(np.median(times))
    return steps["softmax"] - steps["identity"]


def measure_softmax_overhead(sizes, rounds, n_samples=N_SAMPLES, n_classes=N_CLASSES):
    """What the softmax and the log loss add to fastbp's epoch.

    For each (dtype, width, depth) of ``sizes``: BackpropClassifier on
    ``n_classes`` labels (softmax output, log loss) against BackpropRegressor
    on their one-hot targets (``n_classes`` identity outputs, squared error):
    the same network, data size, batches and epochs per measure, timed in
    interleaved rounds. ``ratio`` is the classifier's median seconds per
    epoch over the regressor's; ``softmax_seconds_per_epoch`` the softmax's
    own steps (:func:`softmax_steps_per_epoch`), and ``within`` whether the
    classifier's epoch takes no longer than the regressor's plus these.
    """
    rows = []
    for dtype, width, depth in sizes:
        X, labels = make_classification_data(dtype, n_samples, n_classes=n_classes)
        hidden = (width,) * depth
        trainers = {
            "classifier": make_trainer("fastbp", X, labels, hidden, "classification"),
            "regressor": make_trainer(
                "fastbp", X, one_hot(labels, n_classes, dtype), hidden
            ),
        }
        seconds, epochs = time_trainers(trainers, rounds, same_epochs=True)
        classifier = float(np.median(seconds["classifier"]))
        regressor = float(np.median(seconds["regressor"]))
        own = softmax_steps_per_epoch(dtype, n_samples, n_classes)
        rows.append(
            {
                "dtype": dtype,
                "width": width,
                "depth": depth,
                "n_classes": n_classes,
                "classifier_seconds_per_epoch": classifier,
                "regressor_seconds_per_epoch": regressor,
                "ratio": classifier / regressor,
                "softmax_seconds_per_epoch": own,
                "within_ratio": classifier / regressor <= SOFTMAX_OVERHEAD_RATIO,
                "within": classifier <= regressor + own,
                "classifier_rounds": seconds["classifier"],
                "regressor_rounds": seconds["regressor"],
                "epochs_per_measure": epochs["classifier"],
            }
        )
        progress(
            f"softmax overhead, {dtype} width {width} x {depth}, {n_classes} "
            f"classes: classifier {classifier:.4g}, regressor {regressor:.4g} "
            f"s/epoch, ratio {classifier / regressor:.3f}; the softmax's own "
            f"steps {own:.4g} s/epoch"
        )
    return rows


def depth_costs(rows, names):
    """Least-squares seconds per added hidden layer, per dtype/width/impl."""
    costs = []
    keys = sorted({(r["dtype"], r["width"]) for r in rows})
    for dtype, width in keys:
        series = [r for r in rows if r["dtype"] == dtype and r["width"] == width]
        if len(series) < 2:
            continue
        depths = [r["depth"] for r in series]
        for name in names:
            times = [r["implementations"][name]["seconds_per_epoch"] for r in series]
            slope, intercept = np.polyfit(depths, times, 1)
            costs.append(
                {
                    "dtype": dtype,
                    "width": width,
                    "implementation": name,
                    "seconds_per_layer": float(slope),
                    "seconds_at_zero_layers": float(intercept),
                }
            )
    return costs


def measure_inference(repeats):
    """Predict throughput on 100k rows and single-row latency."""
    results = {}
    X, row = prediction_rows(), prediction_rows(n_rows=1)
    models = {name: fitted_model(name) for name in ESTIMATORS}
    for name, model in models.items():
        results[name] = {
            "predict_100k_seconds": median_seconds(
                lambda model=model: model.predict(X), repeats
            ),
            "predict_one_row_seconds": median_seconds(
                lambda model=model: model.predict(row), repeats, inner=200
            ),
        }
        results[name]["rows_per_second"] = (
            PREDICT_ROWS / results[name]["predict_100k_seconds"]
        )
    return results


def write_json(path, report):
    path.write_text(json.dumps(report, indent=2))


def _fmt(seconds):
    return f"{seconds:.3g}"


def _epoch_tables(rows, names, title):
    """Markdown lines: one table of seconds per epoch per dtype of ``rows``."""
    peers = [n for n in names if n not in OWN]
    one_thread = "fastbp 1 thread" in names
    lines = []
    for dtype in DTYPES:
        dtype_rows = [r for r in rows if r["dtype"] == dtype]
        if not dtype_rows:
            continue
        header = (
            ["width", "hidden layers"]
            + [f"{n} s/epoch" for n in names]
            + [f"speed-up vs {p}" for p in peers]
            + (["2 threads vs 1"] if one_thread else [])
            + ["fastbp GFLOP/s", "% of peak", "GEMM limit s"]
        )
        lines += ["", f"## {title}, {dtype}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for r in dtype_rows:
            impl = r["implementations"]
            fast = impl["fastbp"]["seconds_per_epoch"]
            cells = [str(r["width"]), str(r["depth"])]
            cells += [_fmt(impl[n]["seconds_per_epoch"]) for n in names]
            cells += [f"{impl[p]['seconds_per_epoch'] / fast:.2f}x" for p in peers]
            if one_thread:
                single = impl["fastbp 1 thread"]["seconds_per_epoch"]
                cells.append(f"{single / fast:.2f}x")
            cells += [
                f"{impl['fastbp']['gflops']:.2f}",
                f"{impl['fastbp']['percent_of_peak']:.1f}",
                _fmt(r["gemm_limit_seconds"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _softmax_overhead_table(rows):
    """Markdown lines: the classifier's epoch against the regressor's."""
    lines = [
        "",
        "## What the softmax and the log loss add to an epoch (fastbp)",
        "",
        f"BackpropClassifier ({N_CLASSES} classes: softmax output, log loss) "
        f"against BackpropRegressor with {N_CLASSES} identity outputs (squared "
        "error on the one-hot targets): the same network, data, batches and "
        "epochs (each measure a fit, label encoding included, as for every "
        f"implementation above); medians of {len(rows[0]['classifier_rounds'])} "
        "interleaved rounds. The softmax's own steps: the softmax (bias, "
        "maximum, exp, sum, division), the log loss and its output error on "
        "the epoch's (batch, classes) outputs, timed alone, less the identity "
        "output's and the squared error's. Targets: the ratio at most "
        f"{SOFTMAX_OVERHEAD_RATIO:.2f}, and the classifier's epoch no longer "
        "than the regressor's plus the softmax's own steps.",
        "",
        "| dtype | width | hidden layers | classifier s/epoch | "
        f"regressor s/epoch | ratio | ratio <= {SOFTMAX_OVERHEAD_RATIO:.2f} | "
        "classifier - regressor, us per batch | "
        "the softmax's own steps, us per batch | within them |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    batches = math.ceil(N_SAMPLES / BATCH_SIZE)

    def verdict(met):
        return "yes" if met else "**no**"

    for r in rows:
        extra = r["classifier_seconds_per_epoch"] - r["regressor_seconds_per_epoch"]
        lines.append(
            f"| {r['dtype']} | {r['width']} | {r['depth']} | "
            f"{_fmt(r['classifier_seconds_per_epoch'])} | "
            f"{_fmt(r['regressor_seconds_per_epoch'])} | {r['ratio']:.3f} | "
            f"{verdict(r['within_ratio'])} | {extra / batches * 1e6:.2f} | "
            f"{r['softmax_seconds_per_epoch'] / batches * 1e6:.2f} | "
            f"{verdict(r['within'])} |"
        )
    return lines


def _geometric_mean(values):
    return float(np.exp(np.mean(np.log(values))))


def targets(rows, names):
    """Issue 13's measures over the regression grid, per dtype and overall."""
    peers = [n for n in names if n not in OWN]
    ratios, behind, by_dtype = [], [], {}
    for r in rows:
        impl = r["implementations"]
        fast = impl["fastbp"]["seconds_per_epoch"]
        best = min(impl[p]["seconds_per_epoch"] for p in peers)
        ratios.append(best / fast)
        by_dtype.setdefault(r["dtype"], []).append(best / fast)
        if best < fast:
            behind.append(f"{r['dtype']} {r['width']}x{r['depth']} ({best / fast:.2f}x)")

    def sklearn_speedup(width):
        return {
            r["dtype"]: r["implementations"]["scikit-learn"]["seconds_per_epoch"]
            / r["implementations"]["fastbp"]["seconds_per_epoch"]
            for r in rows
            if r["width"] == width and r["depth"] == 1
        }

    def share_of_peak(width, depth):
        return {
            r["dtype"]: r["implementations"]["fastbp"]["percent_of_peak"]
            for r in rows
            if r["width"] == width and r["depth"] == depth
        }

    return {
        "sizes": len(rows),
        "ahead_of_every_peer": len(rows) - len(behind),
        "behind": behind,
        "geometric_mean_best_peer_over_fastbp": _geometric_mean(ratios),
        "geometric_mean_by_dtype": {d: _geometric_mean(v) for d, v in by_dtype.items()},
        "scikit_learn_speedup_16x1": sklearn_speedup(16),
        "scikit_learn_speedup_64x1": sklearn_speedup(64),
        "percent_of_peak_256x8": share_of_peak(256, 8),
        "percent_of_peak_1024x2": share_of_peak(1024, 2),
    }


def _targets(report):
    """Markdown lines: the measures the speed targets are judged by."""
    t = report["targets"]

    def pairs(values, unit):
        return ", ".join(f"{d} {v:.1f}{unit}" for d, v in values.items()) or "not run"

    return [
        "## Summary (regression grid, fastbp on all cores)",
        "",
        f"- fastbp at least as fast as every peer: {t['ahead_of_every_peer']} of "
        f"{t['sizes']} sizes"
        + (f"; behind at {', '.join(t['behind'])}" if t["behind"] else "")
        + ".",
        "- Geometric mean of the best peer's time over fastbp's: "
        f"{t['geometric_mean_best_peer_over_fastbp']:.2f} ("
        + ", ".join(f"{d} {v:.2f}" for d, v in t["geometric_mean_by_dtype"].items())
        + ").",
        "- Speed-up over scikit-learn, one hidden layer of 16: "
        f"{pairs(t['scikit_learn_speedup_16x1'], 'x')}; of 64: "
        f"{pairs(t['scikit_learn_speedup_64x1'], 'x')}.",
        f"- Share of the GEMM peak, 256 x 8: {pairs(t['percent_of_peak_256x8'], '%')}; "
        f"1024 x 2: {pairs(t['percent_of_peak_1024x2'], '%')}.",
        "",
    ]


def write_markdown(path, report):
    names = report["implementations"]
    machine = report["machine"]
    lines = [
        "# fastbp benchmark report",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v),
        "",
        f"Workload: n = {N_SAMPLES} x {N_FEATURES}, batch {BATCH_SIZE}, adam, "
        "relu hidden layers. Regression: one output, squared error. "
        f"Classification: {N_CLASSES} classes (the regression target cut at "
        "its deciles), softmax output, log loss (cross-entropy). Seconds per "
        f"epoch are medians of {report['rounds']} interleaved rounds, each "
        f"measure after a pause of {SETTLE_SECONDS} s (the last library's "
        "threads stop spinning).",
        "",
        "GEMM peak measured in this run (the better of NumPy's matmul, "
        "2048 x 2048, and fastbp's own product, 200 x 1024 @ 1024 and 512^3, "
        "each on all cores): "
        + ", ".join(
            f"{d} {p['peak']:.1f} GFLOP/s (NumPy {p['numpy']:.1f}, fastbp "
            f"{p['fastbp']:.1f})"
            for d, p in report["gemm_peaks"].items()
        ),
        "",
    ]
    lines += _targets(report)
    for name in IMPLEMENTATIONS:
        if name not in names:
            lines.append(f"Not measured: {name} ({report['skipped'][name]}).")
    lines += _epoch_tables(report["grid"], names, "Seconds per epoch")
    if report["depth_costs"]:
        lines += ["", "## Cost of one more hidden layer (s/epoch, least squares)", ""]
        lines.append("| dtype | width | " + " | ".join(names) + " |")
        lines.append("|" + "---|" * (2 + len(names)))
        keys = sorted({(c["dtype"], c["width"]) for c in report["depth_costs"]})
        for dtype, width in keys:
            cost = {
                c["implementation"]: c["seconds_per_layer"]
                for c in report["depth_costs"]
                if c["dtype"] == dtype and c["width"] == width
            }
            lines.append(
                f"| {dtype} | {width} | "
                + " | ".join(_fmt(cost[n]) for n in names)
                + " |"
            )
    if report.get("classification"):
        lines += _epoch_tables(
            report["classification"],
            names,
            f"Classification, {N_CLASSES} classes (softmax, log loss): "
            "seconds per epoch",
        )
    if report.get("softmax_overhead"):
        lines += _softmax_overhead_table(report["softmax_overhead"])
    inference = report["inference"]
    lines += [
        "",
        f"## Prediction (network {PREDICT_HIDDEN}, float64)",
        "",
        "| implementation | 100k rows, s | rows/s | one row, us |",
        "|---|---|---|---|",
    ]
    for name, r in inference.items():
        lines.append(
            f"| {name} | {_fmt(r['predict_100k_seconds'])} | "
            f"{r['rows_per_second']:.3g} | {1e6 * r['predict_one_row_seconds']:.1f} |"
        )
    cold = report["cold_start"]
    lines += [
        "",
        "## Cold start: a fresh process, import + first small fit (s)",
        "",
        "| fastbp, empty JIT cache | fastbp, warm JIT cache | scikit-learn |",
        "|---|---|---|",
        f"| {cold['fastbp_empty_cache']:.2f} | {cold['fastbp_warm_cache']:.2f} | "
        f"{cold['scikit-learn']:.2f} |",
        "",
    ]
    memory = report.get("memory")
    if memory:
        mb = {k: memory[k] / 2**20 for k in ("baseline", "peak", "data", "overhead")}
        lines += [
            f"## Memory: fit of {memory['n_rows']:,} x 8 float32 rows, "
            f"hidden {tuple(memory['hidden'])}",
            "",
            f"Peak RSS {mb['peak']:.1f} MB = baseline {mb['baseline']:.1f} MB "
            f"(Python, libraries, compiled kernels) + data {mb['data']:.1f} MB "
            f"+ fit overhead {mb['overhead']:.1f} MB.",
            "",
        ]
    path.write_text("\n".join(lines))


def write_figure(path, report):
    """Seconds per epoch against depth, one line per width and implementation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib is not installed: no figure (pip install -e '.[bench]')")
        return False
    names = report["implementations"]
    colors = dict(zip(IMPLEMENTATIONS, ["C3", "C4", "C0", "C1", "C2"]))
    markers = ["o", "s", "^", "D", "v"]
    costs = {
        (c["dtype"], c["width"], c["implementation"]): c["seconds_per_layer"]
        for c in report["depth_costs"]
    }
    fig, axes = plt.subplots(1, len(DTYPES), figsize=(14, 6.5), sharey=True)
    for ax, dtype in zip(np.atleast_1d(axes), DTYPES):
        rows = [r for r in report["grid"] if r["dtype"] == dtype]
        widths = sorted({r["width"] for r in rows})
        for w_index, width in enumerate(widths):
            series = [r for r in rows if r["width"] == width]
            depths = [r["depth"] for r in series]
            for name in names:
                times = [
                    r["implementations"][name]["seconds_per_epoch"] for r in series
                ]
                cost = costs.get((dtype, width, name))
                label = f"{name}, width {width}"
                if cost is not None:
                    label += f" (+{cost:.2g} s/layer)"
                ax.plot(
                    depths,
                    times,
                    color=colors[name],
                    marker=markers[w_index % len(markers)],
                    linewidth=2.2 if name == "fastbp" else 1.2,
                    label=label,
                )
            limit = [r["gemm_limit_seconds"] for r in series]
            ax.plot(depths, limit, color="gray", linestyle=":", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted({r["depth"] for r in rows}))
        ax.set_xticklabels([str(d) for d in sorted({r["depth"] for r in rows})])
        ax.set_xlabel("hidden layers")
        ax.set_title(f"{dtype} (dotted: arithmetic at the GEMM peak)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    np.atleast_1d(axes)[0].set_ylabel("seconds per epoch")
    fig.suptitle(
        f"Backprop cost by depth and width: n = {N_SAMPLES} x {N_FEATURES}, "
        f"batch {BATCH_SIZE}, adam ({report['machine']['cpu']}, "
        f"{report['machine']['cores']} cores)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced grid")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    args.out.mkdir(parents=True, exist_ok=True)
    names = available_implementations()
    skipped = {n: missing_reason(n) for n in IMPLEMENTATIONS if n not in names}
    for name, reason in skipped.items():
        progress(f"skipping {name}: {reason}")

    started = time.perf_counter()
    progress("measuring the GEMM peak")
    measured_peaks = {dtype: gemm_peaks(dtype) for dtype in DTYPES}
    peaks = {dtype: p["peak"] for dtype, p in measured_peaks.items()}
    progress(", ".join(f"{d}: {p:.1f} GFLOP/s" for d, p in peaks.items()))
    sizes = [(dtype, w, d) for dtype in DTYPES for w, d in grid(args.quick)]
    rows = measure_grid(sizes, rounds, names, peaks)
    sizes = [
        (dtype, w, d) for dtype in DTYPES for w, d in classification_grid(args.quick)
    ]
    classification = measure_grid(sizes, rounds, names, peaks, task="classification")
    sizes = [(dtype, w, d) for dtype in DTYPES for w, d in SOFTMAX_OVERHEAD_SIZES]
    softmax_overhead = measure_softmax_overhead(
        sizes, max(rounds, SOFTMAX_OVERHEAD_MIN_ROUNDS)
    )
    progress("timing prediction")
    inference = measure_inference(repeats=rounds)
    progress("timing cold start (fresh processes)")
    cold = cold_starts(repeats=rounds)
    progress("measuring the peak memory of a 1,000,000-row float32 fit")
    memory = fit_memory()
    report = {
        "machine": machine_info(),
        "quick": args.quick,
        "rounds": rounds,
        "implementations": names,
        "skipped": skipped,
        "gemm_peak": peaks,
        "gemm_peaks": measured_peaks,
        "grid": rows,
        "depth_costs": depth_costs(rows, names),
        "targets": targets(rows, names),
        "classification": classification,
        "softmax_overhead": softmax_overhead,
        "softmax_overhead_target": SOFTMAX_OVERHEAD_TARGET,
        "inference": inference,
        "cold_start": cold,
        "memory": memory,
    }
    report["seconds"] = time.perf_counter() - started
    write_json(args.out / "report.json", report)
    write_markdown(args.out / "report.md", report)
    figure = write_figure(args.out / "depth_scaling.png", report)
    written = ["report.md", "report.json"] + (["depth_scaling.png"] if figure else [])
    progress(
        f"done in {report['seconds']:.0f} s: "
        + ", ".join(str(args.out / f) for f in written)
    )


if __name__ == "__main__":
    main()

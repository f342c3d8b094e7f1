"""Training, gaba against PyTorch eager: one step per zoo model, and time to accuracy.

Step: per model, one training step at batch 32 (forward, loss, backward, SGD
with momentum) in gaba (Model.train_step) and in PyTorch eager running the
same architecture from the same weights (benchmarks/zoo_torch.py's
build_train: batch norms in training mode), at 1 and 2 threads (gaba's
threads= and thread count, torch.set_num_threads). The loss is cross-entropy
on random labels where the first output is a class vector, MSE against a
random target otherwise. Every candidate (gaba and torch at each thread
count) is timed in interleaved blocks of warm calls in one run (bench_zoo's
time_runs), so their ratios hold on a noisy machine; p50 and p95 per
candidate, torch p50 / gaba p50 per model and its geometric mean; beside them
the bytes of the model's training arena at the batch (activations kept for
backward, their gradients, workspaces: planned once) and of its inference arena
(one sample, one thread).

Accuracy (--accuracy): on each data set of gaba.datasets that is installed,
its suggested architecture trained by gaba and by PyTorch from the same
initial weights on the same shuffled batches (the last incomplete batch of an
epoch dropped: a batch norm needs two samples) with the same recipe (AdamW,
lr 1e-3, weight decay 1e-2, cross-entropy, batch 32, a fixed number of
epochs); the test accuracy of each and its training wall time.
"""
import sys
import time

import numpy as np

from gaba.benchmarks import did_you_mean, harness
from gaba.benchmarks.bench_zoo import make_inputs, progress, time_runs

COLUMNS = [("model", "model", "{}"), ("category", "category", "{}"),
           ("threads", "threads", "{}"), ("params", "params", "{:,}"),
           ("p50_ms", "gaba p50 ms", "{:.2f}"), ("p95_ms", "gaba p95 ms", "{:.2f}"),
           ("torch_p50_ms", "torch p50 ms", "{:.2f}"), ("torch_p95_ms", "torch p95 ms", "{:.2f}"),
           ("torch_ratio", "torch/gaba", "{:.2f}x"),
           ("train_arena_kib", "train arena KiB", "{:,.0f}"),
           ("arena_kib", "run arena KiB", "{:,.0f}"), ("runs", "runs", "{}")]
ACCURACY_COLUMNS = [("dataset", "data set", "{}"), ("model", "model", "{}"),
                    ("epochs", "epochs", "{}"), ("accuracy", "gaba acc", "{:.3f}"),
                    ("torch_accuracy", "torch acc", "{:.3f}"), ("seconds", "gaba s", "{:.2f}"),
                    ("torch_seconds", "torch s", "{:.2f}"),
                    ("torch_time_ratio", "torch/gaba time", "{:.2f}x")]
LR, MOMENTUM = 1e-3, 0.9  # the step benchmark's SGD: small enough not to diverge on noise


def targets(m, batch, seed):
    """(loss name, targets): class labels for a class-vector output, else a random target."""
    rng = np.random.default_rng(seed)
    shape = tuple(next(iter(m.outputs.values()))["shape"])
    if len(shape) == 1:
        return "cross_entropy", rng.integers(0, shape[0], batch).astype(np.int64)
    return "mse", rng.standard_normal((batch, *shape)).astype(np.float32)


def torch_loss(name):
    import torch.nn.functional as F

    return F.cross_entropy if name == "cross_entropy" else F.mse_loss


def torch_inputs(x):
    import torch

    return [torch.from_numpy(v) for v in x.values()]


def bench_model(name, threads, batch, warmup, runs, max_seconds):
    """Rows (one per thread count) of gaba's and torch's step times for model `name`."""
    import torch

    import gaba
    from gaba import optim, zoo
    from gaba.benchmarks import zoo_torch

    m = zoo.create(name, seed=0, threads=max(threads))
    net = zoo_torch.build_train(m)  # before gaba's first step: the same initial weights
    x = make_inputs(m, batch)
    loss, y = targets(m, batch, 1)
    opt = optim.SGD(m, lr=LR, momentum=MOMENTUM)
    topt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    tx, ty, tloss = torch_inputs(x), torch.from_numpy(y), torch_loss(loss)
    args = tuple(x.values())

    def with_threads(t, fn):
        def call():  # sets the count only when it changes: a no-op inside a block
            if gaba.get_num_threads() != t:
                gaba.set_num_threads(t)
            if torch.get_num_threads() != t:
                torch.set_num_threads(t)
            return fn()
        return call

    def torch_step():
        topt.zero_grad(set_to_none=False)
        tloss(net(*tx)[0], ty).backward()
        topt.step()

    calls = {}
    for t in threads:
        calls[("gaba", t)] = with_threads(t, lambda t=t: m.train_step(args, y, opt, loss=loss,
                                                                      threads=t))
        calls[("torch", t)] = with_threads(t, torch_step)
    times = time_runs(list(calls.values()), warmup, runs, max_seconds * len(calls))
    stats = {k: harness.summarize(v) for k, v in zip(calls, times)}
    rows = []
    for t in threads:
        g, p = stats[("gaba", t)], stats[("torch", t)]
        rows.append({"model": name, "category": m.category, "threads": t, "batch": batch,
                     "loss": loss, "params": m.params, "p50_ms": 1e3 * g["p50"],
                     "p95_ms": 1e3 * g["p95"], "torch_p50_ms": 1e3 * p["p50"],
                     "torch_p95_ms": 1e3 * p["p95"], "torch_ratio": p["p50"] / g["p50"],
                     "train_arena_kib": m.training_arena_bytes(batch) / 1024,
                     "arena_kib": m.arena_bytes / 1024, "runs": g["samples"]})
    return rows


def summary(rows, threads):
    """Per thread count: the geomean and the worst of torch/gaba, and gaba's speed-up at
    each thread count over its first."""
    out = []
    base = {r["model"]: r["p50_ms"] for r in rows if r["threads"] == threads[0]}
    for t in threads:
        sel = [r for r in rows if r["threads"] == t]
        if not sel:
            continue
        worst = min(sel, key=lambda r: r["torch_ratio"])
        out.append({"threads": t, "models": len(sel),
                    "geomean_torch_ratio": geomean([r["torch_ratio"] for r in sel]),
                    "worst_torch_ratio": worst["torch_ratio"], "worst_model": worst["model"],
                    "geomean_speedup": geomean([base[r["model"]] / r["p50_ms"] for r in sel])})
    return out


SUMMARY_COLUMNS = [("threads", "threads", "{}"), ("models", "models", "{}"),
                   ("geomean_torch_ratio", "torch/gaba (geomean)", "{:.2f}x"),
                   ("worst_torch_ratio", "worst torch/gaba", "{:.2f}x"),
                   ("worst_model", "worst model", "{}"),
                   ("geomean_speedup", "gaba vs its 1st thread count", "{:.2f}x")]


def geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def train_both(ds, epochs, batch, seed, threads):
    """ds's suggested model trained by gaba and by torch from the same weights and batches:
    a row with each one's test accuracy and training seconds."""
    import torch

    import gaba
    from gaba import optim, zoo
    from gaba.benchmarks import zoo_torch

    m = zoo.create(ds.model, seed=seed, threads=threads, num_classes=ds.num_classes,
                   input_shape=ds.input_shape)
    net = zoo_torch.build_train(m)
    opt = optim.AdamW(m, lr=1e-3, weight_decay=1e-2)
    topt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    rng = np.random.default_rng(seed)
    n = len(ds.x_train) // batch * batch
    orders = [rng.permutation(len(ds.x_train))[:n].reshape(-1, batch) for _ in range(epochs)]
    gaba.set_num_threads(threads)
    torch.set_num_threads(threads)
    start = time.perf_counter()
    for order in orders:
        for idx in order:
            m.train_step(ds.x_train[idx], ds.y_train[idx], opt, threads=threads)
    seconds = time.perf_counter() - start
    tx, ty = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    start = time.perf_counter()
    net.train()
    for order in orders:
        for idx in order:
            topt.zero_grad(set_to_none=False)
            i = torch.from_numpy(idx)
            torch.nn.functional.cross_entropy(net(tx[i])[0], ty[i]).backward()
            topt.step()
    torch_seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(ds.x_test))[0].argmax(1).numpy()
    acc = m.evaluate(ds.x_test, ds.y_test, threads=threads)["accuracy"]
    return {"dataset": ds.name, "model": ds.model, "epochs": epochs, "batch": batch,
            "seed": seed, "threads": threads, "accuracy": acc,
            "torch_accuracy": float((pred == ds.y_test).mean()), "seconds": seconds,
            "torch_seconds": torch_seconds, "torch_time_ratio": torch_seconds / seconds}


def accuracy_rows(epochs, batch, seed, threads):
    """train_both on every data set whose package is installed (the others are named)."""
    from gaba import datasets

    rows = []
    for name in datasets.names():
        try:
            ds = datasets.load(name)
        except ImportError as e:
            print(f"{name}: skipped ({e})", file=sys.stderr)
            continue
        rows.append(train_both(ds, epochs, batch, seed, threads))
    return rows


def figure(rows, title, machine):
    """Per model, a bar per candidate (gaba and torch at each thread count): p50 step ms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = sorted({r["threads"] for r in rows})
    by = {(r["model"], r["threads"]): r for r in rows}
    models = sorted({r["model"] for r in rows}, key=lambda n: by[(n, threads[0])]["p50_ms"])
    series = [(f"{who} {t} thread(s)", key, t) for t in threads
              for who, key in (("gaba", "p50_ms"), ("PyTorch", "torch_p50_ms"))]
    height = 0.8 / len(series)
    height_in = 0.1 * len(models) * len(series) + 2.0
    fig, ax = plt.subplots(figsize=(10, height_in))
    y = np.arange(len(models))
    for i, (label, key, t) in enumerate(series):
        ax.barh(y + (i - (len(series) - 1) / 2) * height,
                [by[(n, t)][key] for n in models], height, label=label)
    ax.set_yticks(y, models)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(f"one training step, p50 ms (log scale), batch {rows[0]['batch']}")
    ax.legend(loc="upper right")  # the fastest models, the shortest bars, are on top
    ax.set_title(f"{title}: ISA {machine['isa']}, {machine['cpu']}, gaba {machine['gaba']}",
                 fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    import gaba
    from gaba import zoo

    parser = harness.ArgumentParser(prog="gaba bench train",
                                    description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per candidate")
    parser.add_argument("--runs", type=int, default=30, help="timed steps per candidate")
    parser.add_argument("--max-seconds", type=float, default=3.0,
                        help="stop timing a candidate after about this long (>= 25 runs)")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: 3 runs after 1 warm-up, 1 epoch for --accuracy")
    parser.add_argument("--accuracy", action="store_true",
                        help="also train each data set's suggested model in gaba and torch")
    parser.add_argument("--epochs", type=int, default=20, help="--accuracy's epochs")
    parser.add_argument("--seed", type=int, default=0, help="--accuracy's weights and batches")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw p50 step time per model")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        parser.error("needs PyTorch, the peer it measures against (pip install torch)")
    names = args.models.split(",") if args.models else zoo.names()
    unknown = [n for n in names if n not in zoo.names()]
    if unknown:
        hints = "".join(did_you_mean(n, zoo.names()) for n in unknown)
        parser.error(f"unknown model(s): {', '.join(unknown)}{hints}")
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        parser.error(f"--threads: expected positive integers such as 1,2, got {args.threads!r}")
    if args.batch < 2:
        parser.error("--batch: at least 2 (a batch norm needs two samples)")
    warmup, runs = (1, 3) if args.quick else (args.warmup, args.runs)
    epochs = 1 if args.quick else args.epochs
    harness.check_outputs(parser, args)
    machine = harness.machine()
    print(f"gaba {machine['gaba']}, ISA {machine['isa']}, {machine['cpu']}, "
          f"torch {torch.__version__}; batch {args.batch}, threads {threads}")
    before = gaba.get_num_threads()
    rows, acc = [], []
    try:
        for name in progress(names, parser.prog):
            rows += bench_model(name, threads, args.batch, warmup, runs, args.max_seconds)
        if args.accuracy:
            acc = accuracy_rows(epochs, args.batch, args.seed, threads[0])
    finally:
        gaba.set_num_threads(before)
    summ = summary(rows, threads)
    if args.json:
        harness.write_json(args.json, "train", rows,
                           {"summary": summ, "accuracy": acc, "threads": threads,
                            "warmup": warmup, "runs": runs, "torch": torch.__version__})
    for t in threads:
        print(f"\none training step, batch {args.batch}, {t} thread(s)")
        print(harness.format_table([r for r in rows if r["threads"] == t], COLUMNS))
    print("\nsummary:")
    print(harness.format_table(summ, SUMMARY_COLUMNS))
    if acc:
        print(f"\ntime to accuracy ({threads[0]} thread(s), AdamW lr 1e-3 wd 1e-2, "
              f"batch {args.batch}, seed {args.seed}):")
        print(harness.format_table(acc, ACCURACY_COLUMNS))
    if args.plot:
        harness.save_figure(figure(rows, parser.prog, machine), args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())

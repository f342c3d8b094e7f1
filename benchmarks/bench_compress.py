"""The compression toolbox against NumPy and PyTorch: low-rank, distillation, pruning
(and quantization).

Every row is timed in this run next to its peers (medians of repeated
samples, gaba.benchmarks.harness). "speedup" on a peer's row is the peer's
p50 over gaba's p50 for the same case (> 1: gaba is faster). Low-rank rows
also report the Frobenius error over the Eckart-Young optimum (1.0 =
optimal). PyTorch rows appear when torch is installed; the quantization rows
come from bench_quant when it is present.
"""
import argparse
import time

import numpy as np

import gaba
from gaba.benchmarks import harness


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def time_heavy(fn, repeats):
    """Median/p95 seconds of `repeats` single calls after one warm-up (for calls of 10 ms+)."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return harness.summarize(samples)


def weight_like(m, n, seed=0):
    """A matrix with a decaying, power-law-like spectrum (as trained layers have) plus noise."""
    rng = np.random.default_rng(seed)
    k = min(m, n)
    decay = (1.0 + np.arange(k)) ** -0.8
    g = rng.standard_normal((m, k)).astype(np.float32) / np.sqrt(m)
    h = rng.standard_normal((k, n)).astype(np.float32) / np.sqrt(n)
    return ((g * decay.astype(np.float32)) @ h).astype(np.float32)


def row(group, case, impl, stats, **extra):
    r = {"group": group, "case": case, "impl": impl, "p50_us": 1e6 * stats["p50"],
         "p95_us": 1e6 * stats["p95"]}
    r.update(extra)
    return r


def add_speedups(rows):
    """speedup = peer p50 / gaba's p50 for the same case, unless a row already chose its gaba
    counterpart (low-rank: full SVDs vs gaba exact, svd_lowrank vs gaba randomized)."""
    base = {}
    for r in rows:
        if r["impl"].startswith("gaba"):
            base.setdefault((r["group"], r["case"]), r["p50_us"])
    for r in rows:
        ref = base.get((r["group"], r["case"]))
        if ref and not r["impl"].startswith("gaba") and "speedup" not in r:
            r["speedup"] = r["p50_us"] / ref
    return rows


def bench_lowrank(sizes, rank, repeats, torch):
    rows = []
    for size in sizes:
        w = weight_like(size, size, seed=size)
        sigma = np.linalg.svd(w.astype(np.float64), compute_uv=False)
        optimum = float(np.sqrt(np.sum(sigma[rank:] ** 2)))
        w64 = w.astype(np.float64)

        def err(u, v):
            approx = np.asarray(u, np.float64) @ np.asarray(v, np.float64)
            return float(np.linalg.norm(w64 - approx)) / optimum

        case = f"{size}x{size} r={rank}"
        heavy = size >= 1024
        reps = max(1, repeats // 5) if heavy else repeats
        results = {}
        for method in ("exact", "randomized"):
            fn = lambda: gaba.low_rank_factorization(w, rank, method=method)
            stats = time_heavy(fn, reps) if heavy or method == "exact" else time_heavy(fn, repeats)
            u, v = fn()
            results[method] = stats
            rows.append(row("lowrank", case, f"gaba {method}", stats, err_vs_opt=err(u, v)))

        def np_svd():
            u, s, vt = np.linalg.svd(w, full_matrices=False)
            return u[:, :rank] * s[:rank], vt[:rank]

        stats = time_heavy(np_svd, reps)
        rows.append(row("lowrank", case, "numpy linalg.svd", stats, err_vs_opt=err(*np_svd()),
                        speedup=stats["p50"] / results["exact"]["p50"]))
        if torch is not None:
            wt = torch.from_numpy(w)

            def torch_svd():
                u, s, vt = torch.linalg.svd(wt, full_matrices=False)
                return (u[:, :rank] * s[:rank]).numpy(), vt[:rank].numpy()

            def torch_lowrank():
                torch.manual_seed(0)
                u, s, v = torch.svd_lowrank(wt, q=rank + 10, niter=7)
                return (u[:, :rank] * s[:rank]).numpy(), v[:, :rank].T.numpy()

            stats = time_heavy(torch_svd, reps)
            rows.append(row("lowrank", case, "torch linalg.svd", stats,
                            err_vs_opt=err(*torch_svd()),
                            speedup=stats["p50"] / results["exact"]["p50"]))
            stats = time_heavy(torch_lowrank, reps if heavy else repeats)
            rows.append(row("lowrank", case, "torch svd_lowrank", stats,
                            err_vs_opt=err(*torch_lowrank()),
                            speedup=stats["p50"] / results["randomized"]["p50"]))
    return rows


def _np_log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def bench_distill(shapes, torch):
    rows = []
    T = 2.0
    for n, c in shapes:
        rng = np.random.default_rng(n + c)
        s = rng.standard_normal((n, c)).astype(np.float32) * 3
        t = rng.standard_normal((n, c)).astype(np.float32) * 3
        case = f"{n}x{c}"

        def np_forward():
            log_q = _np_log_softmax(s / T)
            log_p = _np_log_softmax(t / T)
            return float((np.exp(log_p) * (log_p - log_q)).sum()) * T * T / n

        def np_backward():
            log_q = _np_log_softmax(s / T)
            log_p = _np_log_softmax(t / T)
            p = np.exp(log_p)
            return float((p * (log_p - log_q)).sum()) * T * T / n, T * (np.exp(log_q) - p) / n

        for label, g_fn, np_fn in (
            ("forward", lambda: gaba.distillation_loss(s, t, T), np_forward),
            ("forward+backward", lambda: gaba.distillation_loss(s, t, T, return_grad=True),
             np_backward),
        ):
            rows.append(row("distill", f"{case} {label}", "gaba", harness.measure(g_fn)))
            rows.append(row("distill", f"{case} {label}", "numpy", harness.measure(np_fn)))
            if torch is None:
                continue
            import torch.nn.functional as F

            tt = torch.from_numpy(t)
            if label == "forward":
                st = torch.from_numpy(s)

                def torch_fn():
                    with torch.no_grad():
                        return F.kl_div(F.log_softmax(st / T, dim=1), F.softmax(tt / T, dim=1),
                                        reduction="batchmean") * (T * T)
            else:
                def torch_fn():
                    st = torch.from_numpy(s).requires_grad_(True)
                    loss = F.kl_div(F.log_softmax(st / T, dim=1), F.softmax(tt / T, dim=1),
                                    reduction="batchmean") * (T * T)
                    loss.backward()
                    return st.grad
            rows.append(row("distill", f"{case} {label}", "torch log_softmax+kl_div",
                            harness.measure(torch_fn)))
    return rows


def bench_prune(n, sparsity, torch):
    w = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    k = round(sparsity * n)
    case = f"{n / 1e6:g}M weights {sparsity:.0%}"

    def np_prune():
        mag = np.abs(w)
        # np.partition's introselect finds the k-th magnitude; ties would need more care.
        threshold = np.partition(mag, k - 1)[k - 1]
        mask = mag > threshold
        return np.where(mask, w, np.float32(0)), mask

    rows = [row("prune", case, "gaba", harness.measure(lambda: gaba.magnitude_prune(w, sparsity))),
            row("prune", case, "numpy partition", harness.measure(np_prune))]
    if torch is not None:
        wt = torch.from_numpy(w)

        def torch_prune():  # what torch.nn.utils.prune.l1_unstructured computes
            mask = torch.ones_like(wt)
            idx = torch.topk(wt.abs().view(-1), k=k, largest=False).indices
            mask.view(-1)[idx] = 0
            return wt * mask, mask

        rows.append(row("prune", case, "torch topk (nn.utils.prune)", harness.measure(torch_prune)))
    return rows


def quant_rows(quick):
    try:
        from gaba.benchmarks import bench_quant
    except ImportError:
        return []
    return list(bench_quant.rows(quick=quick))


def targets(rows):
    """The issue's targets as measured ratios (None when a peer is missing)."""
    def p50(group, case, impl):
        for r in rows:
            if r["group"] == group and r["case"] == case and r["impl"] == impl:
                return r["p50_us"], r
        return None, None

    out = {}
    for r in rows:
        if (r["group"] == "lowrank" and r["impl"] == "gaba randomized"
                and r["case"].startswith("2048")):
            exact, _ = p50("lowrank", r["case"], "gaba exact")
            out["randomized_2048_speedup_vs_exact"] = exact / r["p50_us"]
            out["randomized_2048_error_vs_optimum"] = r["err_vs_opt"]
        if (r["group"] == "lowrank" and r["impl"] == "torch linalg.svd"
                and r["case"].startswith("512x")):
            out["exact_512_speedup_vs_torch_svd"] = r["speedup"]
        if (r["group"] == "distill" and r["case"].startswith("256x1000")
                and r["impl"].startswith("torch")):
            key = "forward" if r["case"].endswith(" forward") else "forward_backward"
            out[f"distill_256x1000_{key}_speedup_vs_torch"] = r["speedup"]
        if r["group"] == "prune" and r["impl"] == "numpy partition":
            out["prune_speedup_vs_numpy"] = r["speedup"]
    return out


COLUMNS = [("group", "group", "{}"), ("case", "case", "{}"), ("impl", "implementation", "{}"),
           ("p50_us", "p50 us", "{:.1f}"), ("p95_us", "p95 us", "{:.1f}"),
           ("speedup", "gaba speedup", "{:.2f}x"), ("err_vs_opt", "err/optimum", "{:.5f}")]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaba bench compress",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes only (no 2048x2048 SVD), fewer repeats")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for gaba and torch (default 1: single-thread figures)")
    parser.add_argument("--only", choices=["lowrank", "distill", "prune", "quant"],
                        action="append", help="run only these groups (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    groups = set(args.only or ["lowrank", "distill", "prune", "quant"])
    torch = _torch()
    gaba.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    try:  # NumPy's own OpenBLAS gets the same thread count when threadpoolctl is there
        from threadpoolctl import threadpool_limits

        numpy_threads = threadpool_limits(args.threads, user_api="blas")
        numpy_note = f"numpy's BLAS limited to {args.threads} by threadpoolctl"
    except ImportError:
        numpy_threads = None
        numpy_note = "numpy uses its own OpenBLAS threads (threadpoolctl not installed)"
    rows = []
    if "lowrank" in groups:
        rows += bench_lowrank([512] if args.quick else [512, 2048], 32, 3 if args.quick else 7,
                              torch)
    if "distill" in groups:
        rows += bench_distill([(256, 10), (256, 1000)], torch)
    if "prune" in groups:
        rows += bench_prune(1 << 20 if not args.quick else 1 << 18, 0.5, torch)
    add_speedups(rows)
    print(harness.format_table(rows, COLUMNS))
    quant = quant_rows(args.quick) if "quant" in groups else []
    if quant:
        from gaba.benchmarks import bench_quant

        print()
        print(harness.format_table(quant, bench_quant.COLUMNS))
    summary = targets(rows)
    if summary:
        print()
        for key, value in summary.items():
            print(f"{key}: {value:.5f}" if "error" in key else f"{key}: {value:.2f}")
    note = f"threads={args.threads}" + ("" if torch else "; torch not installed")
    print(f"\n({note}; {numpy_note})")
    if numpy_threads is not None:
        numpy_threads.restore_original_limits()
    if args.json:
        harness.write_json(args.json, "compress", rows + quant,
                           {"targets": summary, "threads": args.threads})


if __name__ == "__main__":
    main()

"""gaba's benchmarks, installed as gaba.benchmarks and run by ``gaba bench NAME``.

Each module bench_<name>.py has a ``main(argv)`` and a one-line docstring; the
table below is what ``gaba bench`` lists. Every figure they print is measured
in the same run as the peer it is compared with.
"""

BENCHMARKS = {
    "startup": "import time of gaba against numpy, in fresh interpreters",
    "compress": "compression toolbox (low-rank, distillation, pruning, quantization) "
                "vs NumPy and PyTorch",
    "quant": "fake quantization and INT4 quantize/dequantize vs NumPy, PyTorch and a memory copy",
    "zoo": "every zoo model run for real: p50/p95/p99, fps, params, MACs, memory (34 models)",
    "all30": "the 30 zoo models of vision, audio and sensor (gaba bench zoo --set all30)",
    "gemm": "float32 GEMM native vs OpenBLAS/numpy/torch, % of FMA peak, int8 GEMM",
    "nn": "every layer op at the zoo's shapes, float32 and int8: fast vs reference vs torch",
    "mlperf": "trained TFLite models imported (MLPerf Tiny or any .tflite) vs LiteRT, TFLite "
              "Micro and ONNX Runtime, with int8 exactness against TFLite Micro",
    "calib": "int8 SQNR per calibration method (minmax, percentile, mse, entropy), outliers",
    "train": "one training step per zoo model vs PyTorch eager (1 and 2 threads); "
             "time to accuracy on the data sets (--accuracy)",
}


def load(name):
    """Import the module of benchmark `name` (a key of BENCHMARKS)."""
    import importlib

    if name not in BENCHMARKS:
        raise KeyError(f"no benchmark named {name!r}{did_you_mean(name, BENCHMARKS)}; "
                       f"known: {', '.join(sorted(BENCHMARKS))}")
    return importlib.import_module(f"gaba.benchmarks.bench_{name}")


def did_you_mean(name, known):
    """ " (did you mean 'x'?)" for the closest of `known` to `name`, or ""."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""

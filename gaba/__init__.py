"""gaba: TinyML experiments in Python on a C core.

Fast float32 and int8 GEMM, the compression toolbox (fake quantization,
low-rank factorization, distillation loss, pruning), a zoo of tiny models
defined in C, and benchmarks whose every number is measured.

>>> import numpy as np, gaba
>>> a = np.ones((2, 3), np.float32); b = np.ones((3, 4), np.float32)
>>> gaba.gemm(a, b)[0, 0]
3.0
"""
from ._version import __version__
from ._ext import _gaba
from .gemm import gemm, gemm_s8, peak_gflops, quantize_multiplier, requantize
from ._runtime import info, set_num_threads, get_num_threads
from .tuning import tune, load_cache as _load_tuning

_load_tuning()

__all__ = ["__version__", "gemm", "gemm_s8", "quantize_multiplier", "requantize",
           "peak_gflops", "tune", "info", "set_num_threads",
           "get_num_threads"]

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
from ._ext import _gaba as _gaba  # first: loads the extension, points it at OpenBLAS
from ._runtime import info, set_num_threads, get_num_threads
from .errors import ModelFileError, UnknownModelError
from .gemm import gemm, gemm_s8, peak_gflops, quantize_multiplier, requantize
from .tuning import tune, load_cache as _load_tuning
from .quant import (fake_quantize, fake_quantize_backward, fake_quantize_lsq_backward,
                    quant_params, quantize, dequantize, QTensor, MinMaxObserver,
                    MovingAverageObserver)
from .lowrank import low_rank_factorization, low_rank_conv2d, singular_values
from .distill import distillation_loss
from .prune import magnitude_prune, PolynomialDecay
from . import zoo
from . import datasets, losses, optim, train

_load_tuning()

__all__ = ["__version__", "info", "set_num_threads", "get_num_threads"]
__all__ += ["gemm", "gemm_s8", "quantize_multiplier", "requantize", "peak_gflops", "tune"]
__all__ += ["fake_quantize", "fake_quantize_backward", "fake_quantize_lsq_backward", "quant_params",
            "quantize", "dequantize", "QTensor", "MinMaxObserver", "MovingAverageObserver"]
__all__ += ["low_rank_factorization", "low_rank_conv2d", "singular_values"]
__all__ += ["distillation_loss"]
__all__ += ["magnitude_prune", "PolynomialDecay"]
__all__ += ["zoo", "ModelFileError", "UnknownModelError"]
__all__ += ["datasets", "losses", "optim", "train"]

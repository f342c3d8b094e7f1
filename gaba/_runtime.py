"""Runtime facts and settings: gaba.info(), thread counts."""
import os

from ._ext import _gaba


def set_num_threads(n):
    """Set how many threads gaba's kernels (and its OpenBLAS) may use.

    Parameters
    ----------
    n : int
        1 to 256. The default comes from ``GABA_NUM_THREADS``, else
        ``OMP_NUM_THREADS``, else the cores this process may run on.

    Raises
    ------
    TypeError
        If `n` is not an int.
    ValueError
        If `n` is out of range.

    Examples
    --------
    >>> import gaba
    >>> gaba.set_num_threads(1); gaba.get_num_threads()
    1
    """
    _gaba.set_num_threads(n)


def get_num_threads():
    """Return the number of threads gaba's kernels may use (see set_num_threads).

    Returns
    -------
    int
        The pool size, which OpenBLAS's thread count follows.

    Examples
    --------
    >>> import gaba
    >>> gaba.get_num_threads() >= 1
    True
    """
    return _gaba.get_num_threads()


class Info(dict):
    """The dict returned by :func:`info`; prints as an aligned report."""

    def __str__(self):
        def show(value):
            if isinstance(value, dict) and all(isinstance(v, bool) for v in value.values()):
                return " ".join(k for k, v in value.items() if v) or "none"
            if isinstance(value, dict):
                return " ".join(f"{k}={v}" for k, v in value.items()) or "(none set)"
            return str(value)

        width = max(map(len, self))
        return "\n".join(f"{key:<{width}}  {show(value)}" for key, value in self.items())

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def info():
    """Describe this gaba build and the machine it runs on.

    Returns
    -------
    Info
        A dict (printing as a report) with the version, the CPU and its
        usable features, the ISA level in use and the best one available,
        threads, OpenBLAS's version, core type and threads, the compiler and
        flags, the extension's path and size, and the environment variables
        that change gaba's behaviour.

    Examples
    --------
    >>> import gaba
    >>> gaba.info()["isa"] in ("ref", "avx2", "avx512")
    True
    """
    import platform

    import numpy

    core = _gaba.build_info()
    ext_path = _gaba.__file__
    result = Info()
    result["version"] = core.pop("version")
    result["python"] = platform.python_version()
    result["numpy"] = numpy.__version__
    result["platform"] = platform.platform()
    result.update(core)
    result["openblas_config"] = core["openblas_config"].strip()
    from . import tuning

    result["gemm_native_blocks"] = _gaba.gemm_native_blocks()
    result["gemm_auto_table"] = tuning.table_source()
    result["gemm_s8_kernel"] = _gaba.gemm_s8_kernel(None)
    result["gemm_auto"] = {f"{m}x{n}x{k}": _gaba.gemm_auto_get(
        _gaba.gemm_auto_classes().index(_gaba.gemm_auto_class(m, n, k)), core["threads"])
        for m, n, k in ((1, 1000, 64), (64, 64, 64), (256, 256, 256), (1024, 1024, 1024),
                        (2304, 16, 27))}
    result["extension"] = ext_path
    result["extension_bytes"] = os.path.getsize(ext_path)
    result["environment"] = {
        key: os.environ[key]
        for key in ("GABA_ISA", "GABA_NUM_THREADS", "OMP_NUM_THREADS", "GABA_SPIN_US",
                    "GABA_CACHE_DIR", "GABA_GEMM_BLOCKS", "OPENBLAS_CORETYPE",
                    "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")
        if key in os.environ
    }
    return result

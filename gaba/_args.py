"""Argument checks shared by the Python wrappers, worded as the C bindings word
theirs (csrc/bindings/py_common.c: gaba_py_long): an integer argument outside
its range is a ValueError naming the function, the argument and the range,
never an OverflowError from a later conversion."""
import operator

MAX_THREADS = 256  # GABA_MAX_THREADS (csrc/include/gaba/gaba.h)


def int_arg(value, func, name, lo, hi):
    """`value` as a Python int in lo..hi; TypeError for a non-integer (bool and
    float included), ValueError outside the range."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{func}(): argument '{name}' must be an int, got {type(value).__name__}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{func}(): argument '{name}' must be an int, "
                        f"got {type(value).__name__}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{func}(): argument '{name}' must be in {lo}..{hi}, got {v}")
    return v


def threads_arg(threads, func):
    """A thread count: gaba's own (None) or an int in 1..MAX_THREADS."""
    if threads is None:
        from ._runtime import get_num_threads
        return get_num_threads()
    return int_arg(threads, func, "threads", 1, MAX_THREADS)

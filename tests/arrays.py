"""The shared generator of awkward arrays that every test uses.

Sizes that break kernels (0, 1, primes, register-tile sizes +-1), layouts
that break bindings (C and F order, negative and stepped strides, misaligned
and byte-swapped views) and values that break numerics (NaN, +-Inf,
denormals, integer extremes). Every layout variant holds exactly the values
of the array it was made from, so a result can be compared with the C-order
one.
"""
import numpy as np

# 0-size, 1, small primes, and the neighbours of 8/16/32/48 (SIMD widths and
# typical microkernel tiles MR x NR).
SIZES = (0, 1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 33, 47, 49, 67)
EDGE_SIZES = (1, 2, 3, 5, 7, 13, 17, 33, 67)


def rand(shape, dtype=np.float32, seed=0, low=-1.0, high=1.0):
    """Reproducible uniform values (integers: the full range of the dtype)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, int(info.max) + 1, size=shape, dtype=dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def misaligned(array):
    """A writeable view with the same values whose data pointer is off by one byte."""
    buf = np.zeros(array.nbytes + 1, np.uint8)
    view = np.ndarray(array.shape, array.dtype, buffer=buf, offset=1)
    view[...] = array
    assert array.size == 0 or not view.flags.aligned
    return view


def layouts(array, include=("C", "F", "negative", "stepped", "misaligned", "byteswapped")):
    """(name, view) pairs holding the values of `array` in different memory layouts."""
    array = np.ascontiguousarray(array)
    out = []
    if "C" in include:
        out.append(("C", array.copy()))
    if "F" in include:
        out.append(("F", np.asfortranarray(array)))
    if "negative" in include:
        flip = tuple(slice(None, None, -1) for _ in range(array.ndim))
        out.append(("negative", array[flip].copy()[flip]))
    if "stepped" in include:
        big = np.full(tuple(2 * s + 1 for s in array.shape), np.nan, array.dtype)
        step = tuple(slice(1, None, 2) for _ in range(array.ndim))
        big[step] = array
        out.append(("stepped", big[step]))
    if "misaligned" in include:
        out.append(("misaligned", misaligned(array)))
    if "byteswapped" in include:
        swapped = array.astype(array.dtype.newbyteorder())
        out.append(("byteswapped", swapped))
    for name, view in out:
        np.testing.assert_array_equal(view, array, err_msg=name)
    return out


def with_specials(array, seed=0):
    """A copy of a float array with NaN, +Inf, -Inf, a denormal and -0.0 placed at random."""
    out = np.array(array, copy=True)
    flat = out.reshape(-1)
    if flat.size == 0:
        return out
    rng = np.random.default_rng(seed)
    tiny = np.finfo(out.dtype).smallest_subnormal
    for value in (np.nan, np.inf, -np.inf, tiny, -0.0):
        flat[rng.integers(flat.size)] = value
    return out


def int_extremes(shape, dtype=np.int8, seed=0):
    """Random integers with the dtype's min and max planted in the corners."""
    out = rand(shape, dtype, seed)
    if out.size:
        info = np.iinfo(out.dtype)
        out.reshape(-1)[0] = info.min
        out.reshape(-1)[-1] = info.max
    return out

"""Argument drawing for the fuzzer: valid values first, then adversarial substitutes.

A generator asks a `Draw` for each argument by kind (`array`, `int`, `float`,
`choice`, ...); with probability `Draw.p` (drawn per call: 0, 0.05, 0.15 or 0.4)
the valid value is swapped for an adversarial one of that kind. Calls with
p = 0 reach the kernels; the others probe the checks in front of them.

Adversarial arrays: wrong dtypes, 0-d, 0-size, many dims, shapes off by one,
F order, strided, negative strides, misaligned (one byte off), read-only,
broadcast (stride 0), byte-swapped, NaN/+-Inf/denormals/+-3.4e38, or no array
at all. Adversarial scalars: ints far outside C's int and long, NaN/Inf, and
objects of the wrong type.

Sizes stay small (a few hundred elements) so that a call costs well under a
millisecond when its arguments are right.
"""
import math

import numpy as np

from arrays import misaligned, with_specials

# Dimension sizes: 0, 1, small primes and SIMD neighbours, favouring small ones.
DIMS = (0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33)
MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # an array's axes
BAD_DTYPES = ("f2", "f8", "i1", "u1", "i2", "i4", "i8", "u4", "?", "O", "c8", "c16",
              "structured", ">f4", "<U3")
BAD_INTS = (-1, 0, 1, 2**31 - 1, 2**31, -2**31 - 1, 2**32 + 1, 2**63 - 1, 2**63, 2**64,
            -2**63 - 1, 10**100, -10**100)
BAD_FLOATS = (math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e-45, 3.4e38, -3.4e38, 1e30,
              1e300, -1.0)
BAD_STRINGS = ("", "nope", "AUTO", "auto\0", "\udcff", "x" * 1000)


def wrong_types(rng):
    """One object of a type no argument of gaba takes (or takes only by accident)."""
    pick = rng.randrange(14)
    return (None, "x", b"x", [1, 2], {"a": 1}, (i for i in range(2)), object(), 1j, True, 1.5,
            np.float64(2.0), np.int64(3), (1, "a"), np.array([1.0, 2.0]))[pick]


class Draw:
    """Draws one call's arguments from `rng` (a random.Random)."""

    def __init__(self, rng):
        self.rng = rng
        self.p = rng.choice((0.0, 0.0, 0.05, 0.15, 0.4))

    # ---- plumbing -----------------------------------------------------------------------

    def chance(self, p=None):
        return self.rng.random() < (self.p if p is None else p)

    def choice(self, options):
        return options[self.rng.randrange(len(options))]

    def seed(self):
        return self.rng.randrange(2**32)

    def dim(self, hi=33):
        return self.choice([d for d in DIMS if d <= hi])

    def shape(self, ndim, hi=17):
        return tuple(self.dim(hi) for _ in range(ndim))

    # ---- valid values -------------------------------------------------------------------

    def values(self, shape, dtype=np.float32, lo=-2.0, hi=2.0):
        """A fresh C-ordered array of `shape`; float values sometimes hold NaN/Inf/denormals."""
        npr = np.random.default_rng(self.seed())
        dtype = np.dtype(dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            lo, hi = max(int(lo), info.min), min(int(hi), info.max)
            native = dtype.newbyteorder("=")  # numpy draws integers in native order only
            return npr.integers(lo, hi + 1, size=shape, dtype=native).astype(dtype)
        if dtype.kind == "b":
            return npr.random(shape) < 0.5
        x = npr.uniform(lo, hi, size=shape).astype(dtype)
        if self.chance(self.p / 2):
            x = with_specials(x, seed=self.seed())
        return x

    # ---- adversarial substitutes ------------------------------------------------------

    def bad_dtype(self, x):
        code = self.choice(BAD_DTYPES)
        if code == "structured":
            return np.zeros(x.shape, [("a", "<f4"), ("b", "<i4")])
        with np.errstate(all="ignore"):
            try:
                return x.astype(code)
            except (TypeError, ValueError):  # x holds strings or records already
                return np.zeros(x.shape, code)

    def bad_shape(self, x):
        kind = self.rng.randrange(4)
        if kind == 0:  # 0-d
            return np.array(x.reshape(-1)[0] if x.size else 0, x.dtype)
        if kind == 1:  # 0-size along one axis
            shape = list(x.shape) or [1]
            shape[self.rng.randrange(len(shape))] = 0
            return np.zeros(shape, x.dtype)
        if kind == 2:  # many dims, up to NumPy's limit
            extra = self.choice((1, 2, 8, 16, 32, MAX_DIMS - x.ndim))
            return x.reshape((1,) * extra + x.shape) if x.ndim + extra <= MAX_DIMS else x
        shape = list(x.shape) or [1]  # one axis off by one
        i = self.rng.randrange(len(shape))
        shape[i] = max(0, shape[i] + self.choice((-1, 1)))
        return self.values(tuple(shape), x.dtype)

    def bad_layout(self, x):
        """The same values in memory the fast paths do not expect (or cannot write)."""
        kind = self.rng.randrange(8)
        if kind == 0:
            return np.asfortranarray(x)
        stepped = tuple(2 * s + 1 for s in x.shape)
        if kind == 1 and x.ndim and math.prod(stepped) <= 1 << 24:  # (not for 60 axes of 1)
            # stepped: every other element of a larger array
            big = np.zeros(stepped, x.dtype)
            step = tuple(slice(1, None, 2) for _ in x.shape)
            big[step] = x
            return big[step]
        if kind == 2 and x.ndim:
            flip = tuple(slice(None, None, -1) for _ in x.shape)
            return x[flip].copy()[flip]
        if kind == 3 and x.dtype.itemsize > 1:
            return misaligned(x)
        if kind == 4:
            y = x.copy()
            y.flags.writeable = False
            return y
        if kind == 5 and x.ndim and x.size:  # stride 0 along the first axis
            return np.broadcast_to(x[:1], x.shape)
        if kind == 6 and x.dtype.itemsize > 1:
            return x.astype(x.dtype.newbyteorder())
        if kind == 7:
            return self.bad_values(x)
        return np.asfortranarray(x)

    def bad_values(self, x):
        """The same array with extreme values: all zeros, or one element at an extreme."""
        y = x.copy()
        if not y.size or y.dtype.kind not in "fiu":
            return y
        if self.chance(0.3):
            y[...] = 0
        elif y.dtype.kind == "f":
            with np.errstate(over="ignore"):  # 1e300 in float32 is +Inf
                y.reshape(-1)[self.rng.randrange(y.size)] = self.choice(BAD_FLOATS)
        else:
            info = np.iinfo(y.dtype)
            y.reshape(-1)[self.rng.randrange(y.size)] = self.choice((info.min, info.max, 0, -1
                                                                      if info.min else 1))
        return y

    def bad_array(self, x):
        kind = self.rng.randrange(10)
        if kind < 3:
            return self.bad_layout(x)
        if kind < 5:
            return self.bad_dtype(x)
        if kind < 8:
            return self.bad_shape(x)
        if kind == 8:
            return x.tolist() if x.size < 64 else x.reshape(-1)[:3].tolist()
        return wrong_types(self.rng)

    def bad_int(self):
        kind = self.rng.randrange(6)
        if kind < 4:
            return self.choice(BAD_INTS)
        if kind == 4:
            return self.choice(BAD_FLOATS)
        return wrong_types(self.rng)

    def bad_float(self):
        kind = self.rng.randrange(6)
        if kind < 4:
            return self.choice(BAD_FLOATS)
        if kind == 4:
            return self.choice(BAD_INTS)
        return wrong_types(self.rng)

    def bad_str(self):
        return self.choice(BAD_STRINGS) if self.chance(0.6) else wrong_types(self.rng)

    def bad(self, value):
        """An adversarial substitute for `value`, chosen by its type."""
        if isinstance(value, np.ndarray):
            return self.bad_array(value)
        if isinstance(value, bool) or value is None:
            return self.choice((2, -1, "yes", np.array([True, False]), wrong_types(self.rng)))
        if isinstance(value, int):
            return self.bad_int()
        if isinstance(value, float):
            return self.bad_float()
        if isinstance(value, str):
            return self.bad_str()
        if isinstance(value, (list, tuple)):
            kind = self.rng.randrange(4)
            if kind == 0 and value:
                i = self.rng.randrange(len(value))
                items = list(value)
                items[i] = self.bad(items[i])
                return type(value)(items)
            if kind == 1:
                return type(value)(list(value)[:-1] if value else [0])
            if kind == 2:
                return type(value)(list(value) + [list(value)[-1] if value else 1])
            return wrong_types(self.rng)
        if isinstance(value, dict):
            d = dict(value)
            if d and self.chance(0.5):
                k = self.choice(sorted(d))
                d[k] = self.bad(d[k])
            elif d:
                d.pop(self.choice(sorted(d)))
            else:
                d["nope"] = 1
            return d
        return wrong_types(self.rng)

    # ---- arguments: valid, or swapped with probability p ----------------------------

    def arg(self, value):
        return self.bad(value) if self.chance() else value

    def array(self, shape, dtype=np.float32, lo=-2.0, hi=2.0):
        return self.arg(self.values(shape, dtype, lo, hi))

    def int(self, lo, hi):
        return self.arg(self.rng.randint(lo, hi))

    def float(self, lo, hi):
        return self.arg(self.rng.uniform(lo, hi))

    def pick(self, options):
        return self.arg(self.choice(options))

    def flag(self):
        return self.arg(self.rng.random() < 0.5)

    def args(self, values):
        """Each positional value swapped with probability p; rarely one too few or too many."""
        out = [self.arg(v) for v in values]
        if self.chance(self.p / 4):
            out = out[:-1] if out and self.chance(0.5) else out + [None]
        return out


def describe(value, depth=0):
    """A short, stable summary of an argument for the replay line."""
    if isinstance(value, np.ndarray):
        flags = []
        if value.ndim > 1 and not value.flags.c_contiguous:
            flags.append("F" if value.flags.f_contiguous else "strided")
        elif value.ndim == 1 and value.strides and value.strides[0] != value.itemsize:
            flags.append(f"stride{value.strides[0]}")
        if not value.flags.aligned:
            flags.append("misaligned")
        if not value.flags.writeable:
            flags.append("ro")
        if value.dtype.byteorder == ">":
            flags.append("swapped")
        if value.dtype.kind == "f" and value.size and not np.isfinite(value).all():
            flags.append("nonfinite")
        tag = f"{{{','.join(flags)}}}" if flags else ""
        return f"{value.dtype.str}{list(value.shape)}{tag}"
    if depth < 2 and isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v, depth + 1) for v in value[:6])
        more = ", ..." if len(value) > 6 else ""
        return f"[{inner}{more}]" if isinstance(value, list) else f"({inner}{more})"
    if depth < 2 and isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v, depth + 1)}"
                               for k, v in list(value.items())[:6]) + "}"
    if hasattr(value, "_cap"):
        return f"<{type(value).__name__} {value.name}>"
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001  (a forged QTensor)
        text = f"<{type(value).__name__}: repr raised {type(exc).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."

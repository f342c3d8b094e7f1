"""Loads the C extension, gaba._gaba, and tells it where OpenBLAS is.

OpenBLAS comes from the scipy-openblas32 wheel. The extension does not link
it: it loads the library on first use (csrc/core/openblas.c), so
`import gaba` stays cheap. Finding the wheel's spec does not import it.
"""
import importlib.util
import os

from . import _gaba


def _openblas_library():
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or spec.origin is None:
        return None
    lib_dir = os.path.join(os.path.dirname(spec.origin), "lib")
    try:
        names = sorted(n for n in os.listdir(lib_dir) if n.startswith("libscipy_openblas"))
    except OSError:
        return None
    return os.path.join(lib_dir, names[0]) if names else None


_path = _openblas_library()
if _path:
    _gaba.set_openblas_path(_path)

__all__ = ["_gaba"]

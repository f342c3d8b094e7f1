"""Every example in gaba's docstrings runs and prints what it says."""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import gaba

MODULES = sorted(m.name for m in pkgutil.iter_modules(gaba.__path__, "gaba.")
                 if m.name not in ("gaba.__main__", "gaba.cli"))


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0",
                    reason="examples show NumPy 2 reprs; "
                    "this run is the NumPy 1.x compatibility run")
@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0

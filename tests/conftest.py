import glob
import os
import sys

import pytest

# `python -m pytest` from the repository root puts the source tree first on
# sys.path. Its gaba/ holds no compiled extension unless it was built in
# place (pip install -e . or setup.py build_ext --inplace); then the tests
# must import the installed package instead.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not glob.glob(os.path.join(_ROOT, "gaba", "_gaba*.so")):
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]


def pytest_report_header(config):
    import gaba

    info = gaba.info()
    return [
        f"gaba {info['version']}: isa={info['isa']} (best {info['isa_best']}), "
        f"threads={info['threads']}, OpenBLAS core {info['openblas_corename']}",
        f"GABA_ISA={os.environ.get('GABA_ISA', '(unset)')}",
    ]


@pytest.fixture(autouse=True)
def _restore_threads():
    """Tests may change the thread count; each one starts from the process default."""
    import gaba

    before = gaba.get_num_threads()
    yield
    gaba.set_num_threads(before)

import os

import pytest


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

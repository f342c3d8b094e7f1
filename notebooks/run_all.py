"""Executes every notebook in this folder top to bottom, headless.

    GABA_QUICK=1 python notebooks/run_all.py       # what CI runs

Fails (exit 1) on the first cell that raises. Outputs are not written back:
the notebooks stay committed without outputs.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def main():
    os.environ.setdefault("MPLBACKEND", "Agg")
    failed = 0
    for path in sorted(HERE.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(HERE)}}).execute()
        except Exception as exc:  # the cell's traceback is in the message
            failed += 1
            print(f"FAILED {path.name}: {exc}", file=sys.stderr)
            continue
        print(f"ok {path.name} ({time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m tests.fuzz ...` from the repository root: the same as tests/fuzz/run.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fuzz.run import main  # noqa: E402

sys.exit(main())

"""The command line the atheris targets share (fuzz_zoo_load.py, fuzz_tflite.py): a fresh
seed corpus when no corpus directory is given, and room in -max_len for the seeds to grow."""
import os
import sys

import atheris


def fuzz(test_one_input, seed_corpus):
    argv = list(sys.argv)
    if not any(os.path.exists(a) for a in argv[1:] if not a.startswith("-")):
        argv.append(seed_corpus())
    if not any(a.startswith("-max_len=") for a in argv):
        argv.append("-max_len=200000")  # the seeds are up to 98 KB
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()

"""gaba's API fuzzer: see README.md and run.py."""

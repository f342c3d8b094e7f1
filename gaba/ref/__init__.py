"""Pure-NumPy reference versions of gaba's ops: the oracles its tests compare to.

They follow the documented formulas line by line, in float64 where that makes
them exact enough to judge float32 kernels, and are never optimised.
"""

"""Compiler flags for gaba's C files, shared by setup.py and the C tests.

A file's name suffix picks its ISA flags (gemm_ukernel_avx512.c gets the
AVX-512 flags, gemm_ukernel_ref.c only the baseline), so one build runs on
any x86-64 and the CPU is chosen at run time.
"""
import os

AVX2 = ["-mavx2", "-mfma", "-mf16c"]
AVX512 = AVX2 + ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"]
ISA_FLAGS = {  # file-name suffix -> flags for that file only
    "_avx2.c": AVX2,
    "_avxvnni.c": AVX2 + ["-mavxvnni"],
    "_avx512.c": AVX512,
    "_avx512vnni.c": AVX512 + ["-mavx512vnni"],
    "_avx512vbmi.c": AVX512 + ["-mavx512vbmi"],
}
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer"]
WARNINGS = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def debug_build():
    """GABA_DEBUG=1: -O1 -g with AddressSanitizer and UBSan."""
    return os.environ.get("GABA_DEBUG") == "1"


def base_flags():
    flags = WARNINGS + (["-O1", "-g"] + SANITIZE if debug_build() else ["-O3"])
    if os.environ.get("GABA_NATIVE") == "1":
        flags.append("-march=native")  # a build for this machine only
    return flags


def isa_flags(source):
    return next((flags for suffix, flags in ISA_FLAGS.items() if str(source).endswith(suffix)), [])

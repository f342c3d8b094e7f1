"""Builds gaba's C core into one extension, gaba._gaba.

Every .c file under csrc/ is compiled; a file's suffix picks its ISA flags
(gemm_ukernel_avx512.c gets the AVX-512 flags, gemm_ukernel_ref.c only the
baseline), so one build runs on any x86-64 and the CPU is chosen at run time.

Environment:
  GABA_NATIVE=1   add -march=native to every file (a build for this machine only)
  GABA_DEBUG=1    -O1 -g with AddressSanitizer and UBSan (see .ci/run)
"""
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
import scipy_openblas32
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent
CSRC = Path("csrc")

AVX2 = ["-mavx2", "-mfma", "-mf16c"]
AVX512 = AVX2 + ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"]
ISA_FLAGS = {  # file-name suffix -> flags for that file only
    "_avx2.c": AVX2,
    "_avxvnni.c": AVX2 + ["-mavxvnni"],
    "_avx512.c": AVX512,
    "_avx512vnni.c": AVX512 + ["-mavx512vnni"],
}

DEBUG = os.environ.get("GABA_DEBUG") == "1"
NATIVE = os.environ.get("GABA_NATIVE") == "1"
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer"]
BASE_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
BASE_FLAGS += ["-O1", "-g"] + SANITIZE if DEBUG else ["-O3"]
if NATIVE:
    BASE_FLAGS.append("-march=native")
LINK_FLAGS = SANITIZE if DEBUG else ["-s"]


def version():
    text = (ROOT / "gaba" / "_version.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def isa_flags(source):
    return next((flags for suffix, flags in ISA_FLAGS.items() if source.endswith(suffix)), [])


class BuildExt(build_ext):
    """Compiles each source with its own ISA flags, two files at a time."""

    def build_extension(self, ext):
        headers = [str(p) for p in CSRC.rglob("*.h")]
        cc = self.compiler

        def compile_one(source):
            return cc.compile([source], output_dir=self.build_temp, macros=ext.define_macros,
                              include_dirs=ext.include_dirs, depends=headers,
                              extra_postargs=BASE_FLAGS + isa_flags(source))

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            objects = [obj for objs in pool.map(compile_one, ext.sources) for obj in objs]
        ext_path = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(ext_path), exist_ok=True)
        cc.link_shared_object(objects, ext_path, libraries=ext.libraries,
                              extra_postargs=ext.extra_link_args,
                              target_lang="c")


build_flags = " ".join(BASE_FLAGS) + "; ISA files add their own -m flags"
extension = Extension(
    "gaba._gaba",
    sources=sorted(str(p) for p in CSRC.rglob("*.c")),
    include_dirs=[str(CSRC / "include"), numpy.get_include(), scipy_openblas32.get_include_dir()],
    define_macros=[
        ("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION"),
        ("NPY_TARGET_VERSION", "NPY_1_25_API_VERSION"),
        ("GABA_VERSION_STR", f'"{version()}"'),
        ("GABA_BUILD_FLAGS", f'"{build_flags}"'),
    ],
    # OpenBLAS is not linked: csrc/core/openblas.c loads it on first use from
    # the path gaba/_ext.py finds (its headers are only needed to build).
    libraries=["m", "pthread", "dl"],
    extra_link_args=LINK_FLAGS,
)

setup(ext_modules=[extension], cmdclass={"build_ext": BuildExt})

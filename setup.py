"""Builds gaba's C core into one extension, gaba._gaba.

Every .c file under csrc/ is compiled, each with the ISA flags its name asks
for (csrc/build_flags.py), so one build runs on any x86-64 and the CPU is
chosen at run time.

Environment:
  GABA_NATIVE=1   add -march=native to every file (a build for this machine only)
  GABA_DEBUG=1    -O1 -g with AddressSanitizer and UBSan (see .ci/run)
"""
import itertools
import os
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
import scipy_openblas32
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent
CSRC = Path("csrc")
sys.path.insert(0, str(ROOT / "csrc"))
from build_flags import SANITIZE, base_flags, debug_build, isa_flags  # noqa: E402

BASE_FLAGS = base_flags() + ["-fvisibility=hidden"]
# Release builds drop debug info but keep the symbol table, so perf and
# valgrind show function names.
LINK_FLAGS = SANITIZE if debug_build() else ["-Wl,--strip-debug"]


def version():
    text = (ROOT / "gaba" / "_version.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


class BuildExt(build_ext):
    """Compiles each source with its own ISA flags, one file per CPU at a time,
    printing a line as each file starts (unless -q) so a build shows progress."""

    def build_extension(self, ext):
        headers = [str(p) for p in CSRC.rglob("*.h")]
        cc = self.compiler
        started, lock = itertools.count(1), threading.Lock()

        def compile_one(source):
            if self.verbose:
                with lock:  # whole lines, in start order
                    print(f"gaba: compiling [{next(started)}/{len(ext.sources)}] {source}",
                          flush=True)
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

"""The documentation covers the public API, and its code blocks run."""
import doctest
import importlib
import inspect
import re
import traceback
from pathlib import Path

import pytest

import gaba

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_public_name_is_in_the_api_reference():
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"^::: gaba\.([\w.]+)", text, flags=re.M))
    missing = [n for n in gaba.__all__ if n != "__version__" and n not in documented]
    assert not missing, f"add these to docs/api.md: {missing}"


def test_every_public_callable_has_a_numpydoc_docstring():
    """Examples everywhere; Parameters and Raises wherever there are
    arguments to get wrong; Returns for functions that return something."""
    missing = []
    for name in gaba.__all__:
        obj = getattr(gaba, name)
        if not callable(obj) or inspect.ismodule(obj):
            continue
        doc = obj.__doc__ or ""
        sig = inspect.signature(obj.__init__ if isinstance(obj, type) else obj)
        has_params = any(p != "self" for p in sig.parameters)
        needed = ["Examples"] + (["Parameters", "Raises"] if has_params else [])
        if not isinstance(obj, type) and not name.startswith("set_"):
            needed.append("Returns")
        missing += [f"{name}: {section}" for section in needed if f"\n    {section}\n" not in doc]
    assert not missing, missing


def test_extension_stub_lists_every_function():
    """gaba/_gaba.pyi declares exactly the functions the extension has."""
    stub = (Path(gaba.__file__).parent / "_gaba.pyi").read_text()
    declared = set(re.findall(r"^def (\w+)\(", stub, flags=re.M))
    actual = {n for n in dir(gaba._gaba) if not n.startswith("__")}
    assert declared == actual, (sorted(actual - declared), sorted(declared - actual))


ROOT = DOCS.parent
PAGES = [ROOT / "README.md"] + sorted(DOCS.rglob("*.md"))
# A ```python block; a `<!-- no-test: why -->` line just above it keeps it out of the run.
BLOCK = re.compile(r"^(?:<!-- no-test: (?P<why>\S.*?) -->\n)?```python\n(?P<code>.*?)^```\n",
                   re.M | re.S)

OPTIONAL = ("onnx", "onnxruntime", "torch", "matplotlib",  # extras a block may need
            "sklearn", "sktime", "aeon", "mnist1d")


def _optional_cause(exc):
    """The optional package a block's exception comes from, or None: one not
    installed (an ImportError naming it; gaba re-raises it with the install hint),
    or one installed that fails to import here (e.g. onnx, whose ml_dtypes is
    built for another NumPy); an error inside a package that imports is the
    block's own."""
    for e in (exc, exc.__cause__):
        if isinstance(e, ImportError) and (e.name or "").split(".")[0] in OPTIONAL:
            return e.name.split(".")[0]
    for e in (exc, exc.__cause__, exc.__context__):
        for frame in traceback.extract_tb(e.__traceback__) if e is not None else ():
            parts = Path(frame.filename).parts
            for name in OPTIONAL:
                if name in parts and "site-packages" in parts and not _importable(name):
                    return name
    return None


def _importable(name):
    try:
        importlib.import_module(name)
    except Exception:
        return False
    return True


def python_blocks(page):
    """(first line number, code, reason not to run it or None) of each ```python block."""
    text = page.read_text()
    return [(text.count("\n", 0, b.start("code")) + 1, b["code"], b["why"])
            for b in BLOCK.finditer(text)]


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(page, tmp_path, monkeypatch):
    """Every ```python block of a page runs, in order, in one namespace per page
    (a block may use what an earlier one defined), in an empty directory; a
    block written as a doctest (>>> lines) must also print what it shows."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    threads = gaba.get_num_threads()
    namespace = {"__name__": "__main__"}
    try:
        for line, code, why in python_blocks(page):
            if why:
                continue
            name = f"{page.relative_to(ROOT)}:{line}"
            if code.lstrip().startswith(">>>"):
                test = doctest.DocTestParser().get_doctest(code, namespace, name, name, line - 1)
                runner = doctest.DocTestRunner(
                    optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
                runner.run(test, clear_globs=False)
                assert runner.failures == 0, f"{name}: the doctest above fails"
            else:  # line numbers in a traceback are the page's
                try:
                    exec(compile("\n" * (line - 1) + code, name, "exec"), namespace)
                except Exception as exc:
                    missing = _optional_cause(exc)
                    if missing is None:
                        raise
                    pytest.skip(f"{name} needs {missing}, not usable here: {exc!r}")
    finally:
        gaba.set_num_threads(threads)


def test_no_test_marks_are_few_and_placed():
    """Each `<!-- no-test: why -->` sits right above a ```python block, and few blocks
    are kept out of the run."""
    marks = {p: len(re.findall(r"^<!-- no-test:", p.read_text(), re.M)) for p in PAGES}
    placed = {p: sum(1 for *_, why in python_blocks(p) if why) for p in PAGES}
    assert marks == placed, "a no-test mark must be the line just above a ```python fence"
    assert sum(placed.values()) <= 5, {str(p): n for p, n in placed.items() if n}


# Phrases that cite a document the reader of gaba's pages has never seen.
UNSEEN = re.compile(r"\bthe original(?:'s)? (?:document|catalogue|guide|performance)|"
                    r"\bthe seed's\b|\bthe document'?s?\b|performance guide|seed document", re.I)


def test_no_page_cites_a_document_its_reader_has_not_seen():
    """README, docs and notebooks speak of gaba's own figures and calls, not of a
    source document ("the original document's figures", "the seed's call")."""
    pages = PAGES + sorted((ROOT / "notebooks").glob("*.ipynb")) + [ROOT / "notebooks/README.md"]
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
             for p in pages for n, line in enumerate(p.read_text().splitlines(), 1)
             if UNSEEN.search(line)]
    assert not found, found

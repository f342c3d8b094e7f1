"""The documentation covers the public API."""
import inspect
import re
from pathlib import Path

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

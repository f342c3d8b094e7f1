"""The documentation covers the public API."""
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
    for name in gaba.__all__:
        obj = getattr(gaba, name)
        if callable(obj):
            doc = obj.__doc__ or ""
            assert doc.strip(), f"gaba.{name} has no docstring"
            if not isinstance(obj, type) and len(doc.splitlines()) > 3:
                assert "Returns" in doc or "Raises" in doc or "Parameters" in doc, name

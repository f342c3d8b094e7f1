"""Ratios between two benchmark JSON files: `gaba bench compare A.json B.json`.

Rows are matched by their string fields (the case's name: op, shape,
backend, model...) and their size fields (batch, threads, m, n, k); each
timing field (a name ending in _s, _ms, _us or _ns) shared by both is printed
as B / A. A ratio below 1 means B is faster.
"""
import json
import math

from gaba.benchmarks import harness


SIZE_FIELDS = ("batch", "threads", "m", "n", "k")
TIME_SUFFIXES = ("_s", "_ms", "_us", "_ns")


def _case(row):
    """The fields that name a case: strings and sizes."""
    return {k: v for k, v in row.items() if isinstance(v, str) or k in SIZE_FIELDS}


def _key(row):
    return tuple(sorted(_case(row).items()))


def compare(a, b):
    """Rows of {case..., field: B/A} for the cases present in both results."""
    if a.get("benchmark") != b.get("benchmark"):
        raise ValueError(f"different benchmarks: {a.get('benchmark')!r} vs {b.get('benchmark')!r}")
    rows_b = {_key(r): r for r in b["rows"]}
    out = []
    for ra in a["rows"]:
        rb = rows_b.get(_key(ra))
        if rb is None:
            continue
        row = _case(ra)
        for k, va in ra.items():
            if not k.endswith(TIME_SUFFIXES):
                continue
            vb = rb.get(k)
            numeric = (int, float)
            if (isinstance(va, numeric) and isinstance(vb, numeric) and not isinstance(va, bool)
                    and va != 0 and math.isfinite(va) and math.isfinite(vb)):
                row[k] = vb / va
        out.append(row)
    return out


def main(argv=None):
    parser = harness.ArgumentParser(prog="gaba bench compare", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="baseline JSON (from gaba bench NAME --json)")
    parser.add_argument("b", help="JSON to compare with the baseline")
    args = parser.parse_args(argv)
    loaded = []
    for path in (args.a, args.b):
        try:
            with open(path) as f:
                loaded.append(json.load(f))
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read {path}: {exc}")
        if not isinstance(loaded[-1], dict) or "rows" not in loaded[-1]:
            parser.error(f"{path} is not a result of gaba bench NAME --json")
    a, b = loaded
    try:
        rows = compare(a, b)
    except ValueError as exc:
        parser.error(str(exc))
    if not rows:
        print("no case appears in both files")
        return 1
    for label, data in (("A", a), ("B", b)):
        m = data["machine"]
        print(f"{label}: {m['cpu']}, isa {m['isa']}, {m['threads']} threads, gaba {m['gaba']}, "
              f"{m['time']}")
    names = list(dict.fromkeys(k for r in rows for k in _case(r)))
    ratios = sorted({k for r in rows for k in r} - set(names))
    columns = [(k, k, "{}") for k in names] + [(k, f"{k} B/A", "{:.3f}") for k in ratios]
    print(harness.format_table(rows, columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

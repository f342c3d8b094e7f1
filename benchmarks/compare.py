"""Ratios between two benchmark JSON files: `gaba bench compare A.json B.json`.

Rows are matched by their string fields (the case's name: op, shape,
backend, model...); each numeric field shared by both is printed as B / A.
So for times, a ratio below 1 means B is faster.
"""
import argparse
import json
import math

from gaba.benchmarks import harness


def _key(row):
    return tuple(sorted((k, v) for k, v in row.items() if isinstance(v, str)))


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
        row = {k: v for k, v in ra.items() if isinstance(v, str)}
        for k, va in ra.items():
            vb = rb.get(k)
            numeric = (int, float)
            if (isinstance(va, numeric) and isinstance(vb, numeric) and not isinstance(va, bool)
                    and va != 0 and math.isfinite(va) and math.isfinite(vb)):
                row[k] = vb / va
        out.append(row)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaba bench compare", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="baseline JSON (from gaba bench NAME --json)")
    parser.add_argument("b", help="JSON to compare with the baseline")
    args = parser.parse_args(argv)
    with open(args.a) as fa, open(args.b) as fb:
        a, b = json.load(fa), json.load(fb)
    rows = compare(a, b)
    if not rows:
        print("no case appears in both files")
        return 1
    for label, data in (("A", a), ("B", b)):
        m = data["machine"]
        print(f"{label}: {m['cpu']}, isa {m['isa']}, {m['threads']} threads, gaba {m['gaba']}, "
              f"{m['time']}")
    names = [k for k in rows[0] if isinstance(rows[0][k], str)]
    ratios = sorted({k for r in rows for k, v in r.items() if not isinstance(v, str)})
    columns = [(k, k, "{}") for k in names] + [(k, f"{k} B/A", "{:.3f}") for k in ratios]
    print(harness.format_table(rows, columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

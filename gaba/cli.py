"""The ``gaba`` command: ``gaba info`` and ``gaba bench [NAME] [options]``."""
import argparse
import json
import sys


def _info(args):
    import gaba

    info = gaba.info()
    print(json.dumps(info, indent=2) if args.json else info)


def _bench(args):
    from gaba import benchmarks

    if not args.name:
        print("benchmarks (run one with: gaba bench NAME [--help]):")
        width = max(map(len, benchmarks.BENCHMARKS))
        for name, what in benchmarks.BENCHMARKS.items():
            print(f"  {name:<{width}}  {what}")
        print("\ncompare two results: gaba bench compare A.json B.json")
        return 0
    if args.name == "compare":
        from gaba.benchmarks import compare

        return compare.main(args.rest)
    try:
        module = benchmarks.load(args.name)
    except KeyError as exc:
        print(f"gaba bench: {exc.args[0]}", file=sys.stderr)
        return 2
    return module.main(args.rest)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaba",
                                     description="gaba: TinyML experiments on a C core")
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="version, CPU features, ISA, threads, OpenBLAS, build")
    p_info.add_argument("--json", action="store_true", help="print as JSON")
    p_info.set_defaults(func=_info)
    p_bench = sub.add_parser("bench", help="list the benchmarks, or run one", add_help=False)
    p_bench.add_argument("name", nargs="?", help="benchmark to run (omit to list them)")
    p_bench.add_argument("rest", nargs=argparse.REMAINDER, help="the benchmark's own options")
    p_bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

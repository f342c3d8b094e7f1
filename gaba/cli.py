"""The ``gaba`` command: ``gaba info``, ``gaba bench [NAME] [options]``, ``gaba --version``."""
import argparse
import json
import sys

from ._version import __version__


def _info(args):
    import gaba

    info = gaba.info()
    print(json.dumps(info, indent=2) if args.json else info)


def _bench_list():
    """The benchmarks, one a line, and how to run or compare them."""
    from gaba import benchmarks

    width = max(map(len, benchmarks.BENCHMARKS))
    lines = ["benchmarks (run one with: gaba bench NAME [--help]):"]
    lines += [f"  {name:<{width}}  {what}" for name, what in benchmarks.BENCHMARKS.items()]
    lines += ["", "compare two results: gaba bench compare A.json B.json"]
    return "\n".join(lines)


def _bench(args):
    from gaba import benchmarks

    if not args.name or args.name in ("-h", "--help"):
        print("usage: gaba bench [NAME [options]] | gaba bench compare A.json B.json\n")
        print(_bench_list())
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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="gaba",
                                     description="gaba: TinyML experiments on a C core",
                                     epilog=_bench_list(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gaba {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="version, CPU features, ISA, threads, OpenBLAS, build")
    p_info.add_argument("--json", action="store_true", help="print as JSON")
    p_info.set_defaults(func=_info)
    p_bench = sub.add_parser("bench", help="list the benchmarks, or run one", add_help=False)
    p_bench.add_argument("name", nargs="?", help="benchmark to run (omit to list them)")
    p_bench.add_argument("rest", nargs=argparse.REMAINDER, help="the benchmark's own options")
    p_bench.set_defaults(func=_bench)
    if argv[:1] == ["bench"] and argv[1:2] in (["-h"], ["--help"]):
        argv = argv[:1]  # `gaba bench --help` lists the benchmarks, as `gaba bench` does
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeded, replayable fuzzer of gaba's public and private Python API.

    python tests/fuzz/run.py --seed 1 --calls 100000 --time-limit 180
    python tests/fuzz/run.py --replay 1:4242

Call i of seed S draws everything (its target included) from
random.Random(S * 10**8 + i), so "S:i" replays it alone. A supervisor runs
the calls in a child process that announces each index on a pipe before the
call; a signal, a non-zero exit or a sanitizer report on the child's stderr is
a crash, 10 s without progress a hang, and the child restarts at the next
index. Exceptions other than TypeError, ValueError (and their subclasses) and
the call's documented ones are reported by the child. See README.md.
"""
import argparse
import glob
import os
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
# As tests/conftest.py: a source tree without a built extension must not shadow the installed
# gaba (`python -m tests.fuzz` from the clone puts the clone first on sys.path).
if not glob.glob(os.path.join(ROOT, "gaba", "_gaba*.so")):
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != ROOT]

HANG_SECONDS = 10.0
CHILD_MEMORY = 8 << 30  # address space of the child (release builds; ASan caps each malloc)
SANITIZER = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                       r"SUMMARY: UndefinedBehaviorSanitizer")
EXPECTED = (TypeError, ValueError)


def _targets():
    from fuzz import private, targets  # noqa: F401  (registers the private generators)


    return targets.TARGETS


def draw_table():
    """Every target once, the slow ones' share cut (see targets.RARE)."""
    from fuzz.targets import RARE

    return [n for n in sorted(_targets()) for _ in range(1 if n in RARE else RARE_WEIGHT)]


RARE_WEIGHT = 10


def make_call(seed, index, table):
    """(target name, Call) of call `index`; its target is drawn from all of `table`."""
    from fuzz.draw import Draw

    rng = random.Random(seed * 10**8 + index)
    name = table[rng.randrange(len(table))]
    return name, _targets()[name](Draw(rng))


def _generator_failure(exc):
    """A call that reports a defect of the fuzzer itself as a wrong exception."""
    from fuzz.targets import Call

    def fail():
        raise RuntimeError(f"the generator failed: {type(exc).__name__}: {exc}")
    return Call(fail)


def classify(call, exc):
    """None when `exc` is an acceptable answer to `call`, else its 'Type: message'."""
    if isinstance(exc, EXPECTED) or any(type(exc) is a or (a is OSError and isinstance(exc, a))
                                        for a in call.allowed):
        return None
    return f"{type(exc).__name__}: {str(exc)[:300]}".replace("\n", " ")


def summary_of(name, call):
    from fuzz.draw import describe

    parts = [describe(a) for a in call.args]
    parts += [f"{k}={describe(v)}" for k, v in call.kwargs.items()]
    return f"{name}({', '.join(parts)})"


# ---- the child: runs calls, reports on a pipe -------------------------------------------------


def child(args):
    progress = os.fdopen(os.dup2(args.pipe, 200), "w", buffering=1)  # away from small fds
    os.close(args.pipe)
    os.chdir(args.workdir)  # stray files of bad paths land here
    if "libasan" not in os.environ.get("LD_PRELOAD", ""):
        import resource  # a bad size that reaches malloc fails instead of taking the machine

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    import gaba

    warnings.simplefilter("ignore")
    names = draw_table()
    wanted = set(args.targets or names)
    threads = gaba.get_num_threads()
    index, done = args.start, 0
    while done < args.calls:
        try:
            name, call = make_call(args.seed, index, names)
        except Exception as exc:  # noqa: BLE001  (a defect of the fuzzer, reported as such)
            name, call = "generator", _generator_failure(exc)
        if name in wanted or name == "generator":
            progress.write(f"C {index} {name}\n")
            try:
                call.fn(*call.args, **call.kwargs)
                outcome = "ok"
            except Exception as exc:  # noqa: BLE001  (KeyboardInterrupt and SystemExit pass)
                bad = classify(call, exc)
                outcome = "raised" if bad is None else "wrong"
                if bad:
                    progress.write(f"W {index} {name} {bad}\n")
            closed = _reopen_closed_std_fds()
            if closed:  # e.g. a path argument of 1 opened as a file descriptor and closed
                outcome = "wrong"
                progress.write(f"W {index} {name} closed the process's fd {closed}\n")
            progress.write(f"R {outcome}\n")
            if gaba.get_num_threads() != threads:
                gaba.set_num_threads(threads)
            done += 1
        index += 1
    progress.write(f"END {index}\n")
    return 0


def _reopen_closed_std_fds():
    """The standard fds (0, 1, 2) a call closed, each reopened on /dev/null."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    return closed


# ---- the supervisor ---------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.calls = 0
        self.per_target = {}
        self.outcomes = {"ok": 0, "raised": 0, "wrong": 0}
        self.crashes, self.hangs, self.wrong = [], [], []
        self.first_index = None
        self.next_index = None

    def findings(self):
        return len(self.crashes) + len(self.hangs) + len(self.wrong)


def _spawn(args, start, calls, env, workdir):
    r, w = os.pipe()
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--pipe", str(w), "--workdir",
           workdir, "--seed", str(args.seed), "--start", str(start), "--calls", str(calls)]
    if args.targets:
        cmd += ["--targets", *args.targets]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, pass_fds=(w,), env=env,
                            start_new_session=True)
    os.close(w)
    return proc, r


def _child_env():
    """The environment plus the directory gaba was imported from (the child runs elsewhere)."""
    import gaba

    env = dict(os.environ)
    where = os.path.dirname(os.path.dirname(os.path.abspath(gaba.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (where, env.get("PYTHONPATH")) if p)
    if "libasan" in env.get("LD_PRELOAD", ""):
        # a bad size that reaches malloc fails fast instead of taking the machine's memory
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":max_allocation_size_mb=4096"
    return env


def supervise(args, report):
    env = _child_env()
    deadline = time.monotonic() + args.time_limit if args.time_limit else None
    index = report.first_index = args.start
    workdir = tempfile.TemporaryDirectory(prefix="gaba-fuzz-")
    while report.calls < args.calls and (deadline is None or time.monotonic() < deadline):
        proc, fd = _spawn(args, index, args.calls - report.calls, env, workdir.name)
        try:
            current, end, why, stderr = _watch(proc, fd, report, deadline)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
            os.close(fd)
            proc.stderr.close()
        if why == "deadline":  # the interrupted call is the next one to run
            index = current[0] if current else index
            break
        if why == "hang" and current is not None:
            report.hangs.append((current[0], current[1], f"no progress for {HANG_SECONDS:.0f} s"))
        elif end is not None and rc == 0 and why is None:
            index = end
            break
        else:
            text = stderr.decode(errors="replace")
            if current is None:  # the child failed before its first call: nothing to skip
                sys.exit(f"the fuzzer's child process failed to start (exit {rc}):\n{text}")
            report.crashes.append((current[0], current[1], _crash_line(rc, text), text[-3000:]))
        index = current[0] + 1
    report.next_index = index
    workdir.cleanup()
    return report


def _watch(proc, fd, report, deadline):
    """Reads the child's progress and stderr until it ends, hangs, reports a sanitizer error or
    the time is up: (current (index, target), END index or None, why it stopped, stderr tail)."""
    current, end, why = None, None, None
    stderr, buf, last = b"", b"", time.monotonic()
    err = proc.stderr.fileno()
    streams = [fd, err]
    while streams:
        ready, _, _ = select.select(streams, [], [], 0.5)
        now = time.monotonic()
        if fd in ready:  # progress first: a report on stderr belongs to the announced call
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                streams.remove(fd)
            *lines, buf = (buf + chunk).split(b"\n")
            for line in lines:
                kind, _, rest = line.decode(errors="replace").partition(" ")
                if kind == "C":
                    idx, _, name = rest.partition(" ")
                    current, last = (int(idx), name), now
                    report.calls += 1
                    report.per_target[name] = report.per_target.get(name, 0) + 1
                elif kind == "R":
                    report.outcomes[rest] += 1
                elif kind == "W":
                    idx, name, what = rest.split(" ", 2)
                    report.wrong.append((int(idx), name, what))
                elif kind == "END":
                    end = int(rest)
        if err in ready:
            chunk = os.read(err, 1 << 16)
            if not chunk:
                streams.remove(err)
            stderr = (stderr + chunk)[-20000:]
            if why is None and SANITIZER.search(stderr.decode(errors="replace")):
                why = "sanitizer"  # halt_on_error=0 would go on: stop at the call that did it
                time.sleep(0.2)  # let the report's stack trace arrive
                stderr += _drain(err)
                return current, end, why, stderr
        if end is None and now - last > HANG_SECONDS * (1 if current else 6):  # 6x: imports
            return current, end, "hang", stderr
        if deadline is not None and now > deadline:
            return current, end, "deadline", stderr
    return current, end, why, stderr


def _drain(fd):
    out = b""
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        out += chunk
    return out


def _crash_line(rc, text):
    for line in text.splitlines():
        if SANITIZER.search(line):
            return line.strip()[:300]
    if rc < 0:
        return f"killed by signal {signal.Signals(-rc).name}"
    last = [ln for ln in text.splitlines() if ln.strip()]
    return f"exit status {rc}" + (f": {last[-1][:200]}" if last else "")


def print_report(args, report, seconds):
    print(f"gaba fuzz: seed {args.seed}, calls {report.first_index}.. : {report.calls} calls in "
          f"{seconds:.1f} s ({report.calls / max(seconds, 1e-9):.0f} calls/s); returned "
          f"{report.outcomes['ok']}, raised TypeError/ValueError {report.outcomes['raised']}")
    width = max((len(n) for n in report.per_target), default=0)
    for name in sorted(report.per_target):
        print(f"  {name:<{width}}  {report.per_target[name]}")
    print(f"crashes {len(report.crashes)}, hangs {len(report.hangs)}, "
          f"wrong exceptions {len(report.wrong)}; next index {report.next_index}")
    for idx, name, what, _ in report.crashes:
        print(f"  CRASH {args.seed}:{idx} {name}: {what}")
    for idx, name, what in report.hangs:
        print(f"  HANG  {args.seed}:{idx} {name}: {what}")
    seen = {}  # one line per (target, exception type): the first replay id and a count
    for idx, name, what in report.wrong:
        seen.setdefault((name, what.split(":")[0]), []).append((idx, what))
    for (name, _), hits in sorted(seen.items()):
        more = f"  (+{len(hits) - 1} more)" if len(hits) > 1 else ""
        print(f"  WRONG {args.seed}:{hits[0][0]} {name}: {hits[0][1]}{more}")
    if args.verbose:
        for idx, name, what, text in report.crashes:
            print(f"---- stderr of {args.seed}:{idx} ----\n{text}")


def replay(spec):
    with tempfile.TemporaryDirectory(prefix="gaba-fuzz-") as where:
        os.chdir(where)  # as in the child: files of bad paths land here
        return _replay(*(int(v) for v in spec.split(":")))


def _replay(seed, index):
    import gaba  # noqa: F401

    name, call = make_call(seed, index, draw_table())
    print(f"{seed}:{index} {summary_of(name, call)}", flush=True)
    warnings.simplefilter("ignore")
    try:
        result = call.fn(*call.args, **call.kwargs)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        bad = classify(call, exc)
        print("-> acceptable" if bad is None else f"-> WRONG EXCEPTION {bad}")
        return 0 if bad is None else 1
    text = repr(result)
    print(f"-> returned {text if len(text) < 300 else text[:300] + '...'}")
    return 0


def parse(argv):
    p = argparse.ArgumentParser(prog="python tests/fuzz/run.py", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--calls", type=int, default=10000, help="calls to run (default 10000)")
    p.add_argument("--start", type=int, default=0, help="first call index (default 0)")
    p.add_argument("--time-limit", type=float, default=0.0, help="seconds (0: none)")
    p.add_argument("--targets", nargs="+", help="only these targets (see --list)")
    p.add_argument("--list", action="store_true", help="print the targets and exit")
    p.add_argument("--replay", metavar="SEED:INDEX", help="print and run one call in-process")
    p.add_argument("--verbose", action="store_true", help="print each crash's stderr")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--pipe", type=int, help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.child:
        return child(args)
    if args.list:
        print("\n".join(sorted(_targets())))
        return 0
    if args.replay:
        return replay(args.replay)
    unknown = set(args.targets or ()) - set(_targets())
    if unknown:
        sys.exit(f"unknown targets {sorted(unknown)}; see --list")
    report = Report()
    start = time.monotonic()
    try:
        supervise(args, report)
    except KeyboardInterrupt:
        print_report(args, report, time.monotonic() - start)
        print("interrupted")
        return 130
    print_report(args, report, time.monotonic() - start)
    return 1 if report.findings() else 0


if __name__ == "__main__":
    sys.exit(main())

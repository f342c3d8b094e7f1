"""Concurrency reproducers: a second Python thread works against a running model call.

    python tests/fuzz/races.py --seconds 10            # each race 10 s
    python tests/fuzz/races.py --seconds 60 --only ids

- `dict`: a model (float and int8) is called with a dict of inputs while a
  timer thread clears the dict; the call must keep its inputs alive (a freed
  input is a heap-use-after-free under ASan).
- `ids`: another thread flips the token ids of a running call between 0 and
  2**31 - 1; a call that returns must have read only zeros (its output equals
  the all-zero reference), else it raises ValueError (an id read twice is an
  out-of-bounds read).
- `contention`: four threads call one model; each call returns the
  single-thread result bit for bit or raises the documented ValueError (the
  model is busy).

Exit status 1 when a call returned a wrong result or raised something else;
a memory error is a crash (or an ASan report) of this process.
"""
import argparse
import sys
import threading
import time

import numpy as np

import gaba


def _batch(m, batch, fill):
    return {k: np.full((batch, *v["shape"]), fill,
                       np.int32 if v["dtype"] == "int32" else np.float32)
            for k, v in m.inputs.items()}


def _same(a, b):
    if isinstance(a, dict):
        return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    return np.array_equal(a, b, equal_nan=True)


class Tally:
    def __init__(self, name):
        self.name, self.ok, self.expected, self.wrong = name, 0, 0, []

    def bad(self, what):
        if len(self.wrong) < 5:
            print(f"  {self.name}: {what}", flush=True)
        self.wrong.append(what)

    def line(self, seconds):
        calls = self.ok + self.expected + len(self.wrong)
        return (f"{self.name}: {calls} calls in {seconds:.0f} s: {self.ok} returned the "
                f"reference, {self.expected} raised as documented, {len(self.wrong)} wrong")


def race_dict(seconds):
    """The caller's dict is the only owner of the inputs; another thread empties it."""
    t = Tally("dict")
    m = gaba.zoo.create("EmotionRecogNano", threads=1)
    qm = m.quantize(_batch(m, 4, 0.5), threads=1)
    ref = {id(model): model(_batch(m, 256, 1.0), threads=1) for model in (m, qm)}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        model = (m, qm)[i % 2]
        i += 1
        d = _batch(m, 256, 1.0)
        timer = threading.Timer(0.002 * (i % 5), d.clear)
        timer.start()
        try:
            y = model(d, threads=1)
            if _same(y, ref[id(model)]):
                t.ok += 1
            else:
                t.bad("output differs from the reference")
        except TypeError:  # emptied before the call read it: a missing input
            t.expected += 1
        except Exception as exc:  # noqa: BLE001
            t.bad(f"{type(exc).__name__}: {exc}")
        timer.join()
    return t


def race_ids(seconds):
    """Token ids written by another thread while a call reads them."""
    t = Tally("ids")
    name = "IntentClassifyNano"
    m = gaba.zoo.create(name, threads=1)
    qm = m.quantize(_batch(m, 4, 1), threads=1)
    xs = _batch(m, 512, 0)
    ref = {id(model): model(xs, threads=1) for model in (m, qm)}
    ids = next(x for x in xs.values() if x.dtype == np.int32)
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            ids[...] = 2**31 - 1
            ids[...] = 0

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    end = time.monotonic() + seconds
    i = 0
    try:
        while time.monotonic() < end:
            model = (m, qm)[i % 2]
            i += 1
            try:
                y = model(xs, threads=1)
                if _same(y, ref[id(model)]):
                    t.ok += 1
                else:
                    t.bad("returned an output of ids other than the zeros it was given")
            except ValueError:  # an id out of the vocabulary, reported
                t.expected += 1
            except Exception as exc:  # noqa: BLE001
                t.bad(f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        flipper.join()
    return t


def race_contention(seconds, workers=4):
    """One model, four threads: the result of one thread or the documented 'busy' ValueError."""
    t = Tally("contention")
    m = gaba.zoo.create("KeywordSpotMicro", threads=1)
    x = np.random.default_rng(0).standard_normal((8, *m.inputs["mfcc"]["shape"])).astype(np.float32)
    ref = m(x, threads=1)
    end = time.monotonic() + seconds
    lock = threading.Lock()

    def work():
        while time.monotonic() < end:
            try:
                y = m(x, threads=1)
                with lock:
                    if _same(y, ref):
                        t.ok += 1
                    else:
                        t.bad("output differs from the single-thread reference")
            except ValueError:
                with lock:
                    t.expected += 1
            except Exception as exc:  # noqa: BLE001
                with lock:
                    t.bad(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return t


RACES = {"dict": race_dict, "ids": race_ids, "contention": race_contention}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python tests/fuzz/races.py",
                                description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="per race (default 10)")
    p.add_argument("--only", nargs="+", choices=sorted(RACES), help="only these races")
    args = p.parse_args(argv)
    failed = 0
    for name in args.only or RACES:
        start = time.monotonic()
        tally = RACES[name](args.seconds)
        print(tally.line(time.monotonic() - start), flush=True)
        failed += bool(tally.wrong)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

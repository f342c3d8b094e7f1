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

- `train_use`: a model's train_step in one thread while another calls its
  forward, quantize, save and parameters; `train_twice`: two threads call
  train_step on one model; `train_grow`: the same, one thread's batches
  growing (each growth plans a new training arena). Each call completes or
  raises the documented "running in another thread" ValueError, and the
  parameters are those of the steps that returned, run alone.

Exit status 1 when a call returned a wrong result or raised something else;
a memory error is a crash (or an ASan report) of this process.
"""
import argparse
import os
import sys
import tempfile
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


TRAIN_MODEL = "KeywordSpotMicro"
BUSY = "running in another thread"


def _train_data(m, batch, seed=0):
    npr = np.random.default_rng(seed)
    x = npr.standard_normal((batch, *m.inputs["mfcc"]["shape"])).astype(np.float32)
    return x, npr.integers(0, m.outputs["logits"]["shape"][0], batch)


def _trained_alone(steps, batch=8):
    """The parameters after `steps` single-thread SGD steps on one batch, from seed 0."""
    m = gaba.zoo.create(TRAIN_MODEL, threads=1)
    x, y = _train_data(m, batch)
    opt = gaba.optim.SGD(m, lr=0.01, momentum=0.9)
    for _ in range(steps):
        m.train_step(x, y, opt, threads=1)
    return m._train_arrays()[0].copy()


def _tally_error(t, lock, what, exc):
    """The documented 'busy' ValueError is expected; any other exception is a finding."""
    with lock:
        if isinstance(exc, ValueError) and BUSY in str(exc):
            t.expected += 1
        else:
            t.bad(f"{what}: {type(exc).__name__}: {exc}")


def _steps(t, m, x, y, opt, end, done, lock):
    """train_step until `end`; counts in done[0] the steps that returned."""
    while time.monotonic() < end:
        try:
            m.train_step(x, y, opt, threads=1)
            with lock:
                done[0] += 1
                t.ok += 1
        except Exception as exc:  # noqa: BLE001
            _tally_error(t, lock, "train_step", exc)


def _check_steps(t, m, done):
    """The model's parameters are those of done steps run alone: a step that raised changed
    nothing, one that returned was applied once and whole."""
    want = _trained_alone(done)
    got = m._train_arrays()[0]
    if not np.array_equal(got, want):
        t.bad(f"after {done} steps that returned, the parameters differ from {done} steps run "
              f"alone (max difference {np.abs(got - want).max():.3g})")


def race_train_use(seconds):
    """train_step in one thread; another calls the model's forward, quantize, save and
    parameters: each completes or raises the documented 'busy' ValueError, and the steps
    that returned are the whole training."""
    t = Tally("train+use")
    m = gaba.zoo.create(TRAIN_MODEL, threads=1)
    x, y = _train_data(m, 8)
    opt = gaba.optim.SGD(m, lr=0.01, momentum=0.9)
    end = time.monotonic() + seconds
    done, lock = [0], threading.Lock()
    trainer = threading.Thread(target=_steps, args=(t, m, x, y, opt, end, done, lock))
    trainer.start()
    path = os.path.join(tempfile.mkdtemp(prefix="gaba-race-"), "m.npz")
    i = 0
    while time.monotonic() < end:
        what = ("forward", "quantize", "save", "parameters")[i % 4]
        i += 1
        try:
            if what == "forward":
                out = m(x[:2], threads=1)
                ok = np.isfinite(out).all()
            elif what == "quantize":
                ok = np.isfinite(m.quantize(x[:2], threads=1)(x[:2])).all()
            elif what == "save":
                m.save(path, optimizer=opt)
                ok = gaba.zoo.load(path).optimizer_state is not None
            else:
                ok = all(np.isfinite(v).all() for v in m.parameters.values())
            with lock:
                if ok:
                    t.ok += 1
                else:
                    t.bad(f"{what}: a result that is not finite")
        except Exception as exc:  # noqa: BLE001
            _tally_error(t, lock, what, exc)
    trainer.join()
    _check_steps(t, m, done[0])
    return t


def race_train_twice(seconds):
    """Two threads call train_step on one model with the same batch: each step completes or
    raises the 'busy' ValueError, and the parameters are those of the steps that returned."""
    t = Tally("train+train")
    m = gaba.zoo.create(TRAIN_MODEL, threads=1)
    x, y = _train_data(m, 8)
    opt = gaba.optim.SGD(m, lr=0.01, momentum=0.9)
    end = time.monotonic() + seconds
    done, lock = [0], threading.Lock()
    threads = [threading.Thread(target=_steps, args=(t, m, x, y, opt, end, done, lock))
               for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    _check_steps(t, m, done[0])
    return t


def race_train_grow(seconds):
    """Two threads train one model, one on batches that grow (each growth plans a new
    training arena): the other's step must not write into the arena it freed."""
    t = Tally("train+grow")
    end = time.monotonic() + seconds
    lock = threading.Lock()
    while time.monotonic() < end:
        m = gaba.zoo.create(TRAIN_MODEL, threads=1)
        x, y = _train_data(m, 24)
        opt = gaba.optim.SGD(m, lr=0.01)
        stop = time.monotonic() + 0.5

        def grow():
            for b in range(1, 25):
                try:
                    m.train_step(x[:b], y[:b], opt, threads=1)
                    with lock:
                        t.ok += 1
                except Exception as exc:  # noqa: BLE001
                    _tally_error(t, lock, "grow", exc)

        th = threading.Thread(target=grow)
        th.start()
        _steps(t, m, x[:4], y[:4], opt, stop, [0], lock)
        th.join()
    return t


RACES = {"dict": race_dict, "ids": race_ids, "contention": race_contention,
         "train_use": race_train_use, "train_twice": race_train_twice,
         "train_grow": race_train_grow}


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

"""Training zoo models in C: one step, a whole fit, evaluation (docs/training.md).

    m = gaba.zoo.create("KeywordSpotMicro", num_classes=9, input_shape=(12, 29))
    opt = gaba.optim.AdamW(m, lr=1e-3, weight_decay=1e-4)
    hist = gaba.train.fit(m, x_train, y_train, epochs=40, batch_size=32, optimizer=opt,
                          validation=(x_val, y_val), seed=0)
    m.evaluate(x_test, y_test)

Forward, the loss's gradient, backward and the update run in gaba's C core
(trainer.h) over the model's trainer: batch norms normalize with the batch's
statistics while training and are folded back into the model's weights
(with their running statistics) after every update, so the model's forward,
``quantize`` and ``to_onnx`` always see the trained model.
"""
import contextlib
import math
import threading
import time

import numpy as np

from ._args import int_arg, threads_arg
from ._ext import _gaba

LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "l1", "huber")


class _Trainer:
    """The C trainer of a model: its capsule, blocks and their named views."""

    def __init__(self, model, threads):
        self.cap = _gaba.trainer_new(model._cap, threads)
        self.threads = threads
        desc = _gaba.trainer_describe(self.cap)
        self.params, self.grads, self.stats = _gaba.trainer_blocks(self.cap)
        self.param_views = _views(self.params, desc["params"])
        self.grad_views = _views(self.grads, desc["params"])
        self.stat_views = _views(self.stats, desc["stats"])
        # Held by a whole step (forward, loss, backward, update) and by whatever reads or
        # writes the blocks as one state (save): another thread is refused, not interleaved.
        self.lock = threading.RLock()

    def arena_bytes(self, batch):
        _gaba.trainer_reserve(self.cap, batch)
        return _gaba.trainer_describe(self.cap)["arena_bytes"]


def _views(block, rows):
    return {key: block[off:off + int(np.prod(shape))].reshape(shape) for key, shape, off in rows}


_MAKING = threading.Lock()  # two threads' first use of a model make one trainer


def trainer(model):
    """The model's trainer, made on first use from its current weights."""
    t = getattr(model, "_trainer", None)
    if t is None:
        with _MAKING:
            t = getattr(model, "_trainer", None)
            if t is None:
                t = model._trainer = _Trainer(model, threads_arg(None, f"{model.name}.train"))
    return t


@contextlib.contextmanager
def exclusive(model, func):
    """The model's training state held by this thread (again, when it holds it already);
    ValueError when another thread holds it."""
    lock = trainer(model).lock
    if not lock.acquire(blocking=False):
        raise ValueError(f"{func}(): the model is training or running in another thread")
    try:
        yield
    finally:
        lock.release()


def _targets(y, func, batch):
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{func}: targets must be a numpy.ndarray, got {type(y).__name__}")
    if y.shape[:1] != (batch,):
        raise ValueError(f"{func}: targets hold {y.shape[0] if y.ndim else 0} samples, the "
                         f"inputs {batch}")
    return y


def _loss_fn(loss, func, label_smoothing=0.0, delta=1.0):
    """(pred, target) -> (loss, grad) for a loss name or callable."""
    if callable(loss):
        return loss
    from . import losses

    if loss not in LOSSES:
        raise ValueError(f"{func}: loss must be one of {LOSSES} or a callable, got {loss!r}")
    if loss == "cross_entropy":
        return lambda p, t: losses.cross_entropy(p, t, label_smoothing=label_smoothing,
                                                 grad=True)
    if loss == "huber":
        return lambda p, t: losses.huber(p, t, delta=delta, grad=True)
    fn = losses.LOSSES[loss]
    return lambda p, t: fn(p, t, grad=True)


def _distill_fn(teacher_logits, temperature, alpha):
    from .distill import distillation_loss

    def fn(p, t):
        return distillation_loss(p, teacher_logits, temperature, alpha, labels=t,
                                 return_grad=True)
    return fn


def backward(model, x, y, *, loss="cross_entropy", teacher=None, temperature=2.0, alpha=0.5,
             label_smoothing=0.0, threads=None):
    """Forward and backward of one batch: fill ``model.gradients``; return (loss, outputs).

    x is the model's input batch (an array, a tuple of arrays in the order of
    ``model.inputs``, or a dict by name); y the targets: integer labels for
    ``"cross_entropy"`` (and for distillation with a `teacher`), arrays of
    the output's shape for the others. With a `teacher` (any model called on
    x) the loss is :func:`gaba.distillation_loss` of the student's and the
    teacher's logits with the labels y (``alpha`` weighs the soft term). The
    outputs are the model's first output over the batch, in training mode
    (batch statistics), copied.
    """
    with exclusive(model, f"{model.name}.backward"):
        return _backward(model, x, y, loss, teacher, temperature, alpha, label_smoothing,
                         threads)


def _backward(model, x, y, loss, teacher, temperature, alpha, label_smoothing, threads):
    func = f"{model.name}.train"
    t = trainer(model)
    arrays, batch = model._gather_inputs(*_split(x))
    y = _targets(y, func, batch)
    n_threads = threads_arg(threads, func)
    _gaba.trainer_reserve(t.cap, batch)
    _gaba.trainer_run(t.cap, tuple(arrays), n_threads, 0)
    outs = _gaba.trainer_outputs(t.cap, batch)
    pred = outs[0][0]
    if teacher is not None:
        fn = _distill_fn(np.ascontiguousarray(teacher(*arrays), np.float32), temperature, alpha)
    else:
        fn = _loss_fn(loss, func, label_smoothing)
    value, grad = fn(pred, y)
    if not math.isfinite(value):
        raise FloatingPointError(f"{func}: the loss is {value} (lower the learning rate?)")
    outs[0][1][...] = grad
    for _, g in outs[1:]:  # outputs the loss does not read
        g[...] = 0.0
    pred = pred.copy()
    _gaba.trainer_run(t.cap, tuple(arrays), n_threads, 1)
    return float(value), pred


def _split(x):
    """x as _gather_inputs takes it: (args, kwargs)."""
    if isinstance(x, dict):
        return (x,), {}
    if isinstance(x, (tuple, list)):
        return tuple(x), {}
    return (x,), {}


def train_step(model, x, y, optimizer, **kw):
    """One step: forward, loss, backward, ``optimizer.step()``; returns the batch's loss.

    Keywords as :func:`backward` (loss, teacher, temperature, alpha,
    label_smoothing, threads)."""
    func = f"{model.name}.train_step"
    _check_optimizer(optimizer, func)
    with exclusive(model, func):
        value, _ = backward(model, x, y, **kw)
        optimizer.step()
    return value


def _check_optimizer(optimizer, func):
    """TypeError before any work for an optimizer without a step() (None, a name)."""
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"{func}: optimizer must be a gaba.optim optimizer (with step()), got "
                        f"{type(optimizer).__name__}")


def _correct(logits, labels, k):
    """How many rows of logits have their label among their top k."""
    if logits.ndim != 2 or labels.ndim != 1:
        return None
    top = np.argpartition(-logits, min(k, logits.shape[1]) - 1, axis=1)[:, :k]
    return int((top == labels[:, None]).any(axis=1).sum())


def evaluate(model, x, y, *, loss="cross_entropy", batch_size=256, threads=None):
    """Loss and accuracy of the model (inference: batch norms folded) on a data set.

    Returns a dict: ``loss`` (mean over samples), and for class labels
    ``accuracy`` (top-1) and, with more than 5 classes, ``top5``."""
    func = f"{model.name}.evaluate"
    arrays, n = model._gather_inputs(*_split(x))
    y = _targets(y, func, n)
    batch_size = int_arg(batch_size, func, "batch_size", 1, 2**31 - 1)
    if n == 0:
        raise ValueError(f"{func}: no samples to evaluate")
    fn = _loss_fn(loss, func)
    total, hits, hits5 = 0.0, 0, 0
    for lo in range(0, n, batch_size):
        hi = min(n, lo + batch_size)
        out = model(*[a[lo:hi] for a in arrays], threads=threads)
        out = out if isinstance(out, np.ndarray) else next(iter(out.values()))
        value, _ = fn(out, y[lo:hi])
        total += value * (hi - lo)
        if y.dtype.kind in "iu":
            hits += _correct(out, y[lo:hi], 1) or 0
            hits5 += _correct(out, y[lo:hi], 5) or 0
    result = {"loss": total / n}
    if y.dtype.kind in "iu":
        result["accuracy"] = hits / n
        if out.ndim == 2 and out.shape[1] > 5:
            result["top5"] = hits5 / n
    return result


class History:
    """What :func:`fit` measured, one dict per epoch (``loss``, ``accuracy``,
    ``val_loss``, ``val_accuracy``, ``lr``, ``seconds``); ``h["val_loss"]`` is
    that column as a list; :meth:`plot` draws the curves (matplotlib)."""

    def __init__(self):
        self.epochs = []

    def __getitem__(self, key):
        return [e.get(key) for e in self.epochs]

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        last = self.epochs[-1] if self.epochs else {}
        shown = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k != "epoch")
        return f"<gaba.train.History {len(self)} epochs; last: {shown}>"

    def plot(self, ax=None):
        """Loss and accuracy per epoch, training and validation; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(10, 3.5))
        epochs = [e["epoch"] for e in self.epochs]
        for a, metric in zip(ax, ("loss", "accuracy")):
            for prefix, style in (("", "-"), ("val_", "--")):
                values = self[prefix + metric]
                if any(v is not None for v in values):
                    a.plot(epochs, values, style, label=(prefix or "train_") + metric)
            a.set_xlabel("epoch")
            a.set_title(metric)
            a.legend()
        return ax


class EarlyStopping:
    """Stop :func:`fit` when `monitor` has not improved by `min_delta` for
    `patience` epochs; with `restore_best`, put back the best epoch's weights."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best = restore_best
        self.best, self.wait, self._saved = None, 0, None

    def _better(self, value):
        if self.best is None:
            return True
        if "acc" in self.monitor:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def __call__(self, model, epoch, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping: no {self.monitor!r} in the epoch's logs "
                             f"({sorted(logs)}); pass validation= to fit()")
        if self._better(value):
            self.best, self.wait = value, 0
            if self.restore_best:
                t = trainer(model)
                self._saved = (t.params.copy(), t.stats.copy())
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        if self.restore_best and self._saved is not None:
            t = trainer(model)
            t.params[...], t.stats[...] = self._saved
            model._weights_changed()
        return True


class ModelCheckpoint:
    """Save the model (:meth:`gaba.zoo.Model.save`, with the optimizer's state)
    after each epoch, or only when `monitor` improves (`save_best_only`)."""

    def __init__(self, path, monitor="val_loss", save_best_only=True):
        self.path, self.monitor, self.save_best_only = path, monitor, save_best_only
        self.best = None
        self.optimizer = None  # set by fit

    def __call__(self, model, epoch, logs):
        value = logs.get(self.monitor)
        if self.save_best_only:
            if value is None:
                raise ValueError(f"ModelCheckpoint: no {self.monitor!r} in the epoch's logs")
            better = self.best is None or (value > self.best if "acc" in self.monitor
                                           else value < self.best)
            if not better:
                return False
            self.best = value
        model.save(str(self.path).format(epoch=epoch, **logs), optimizer=self.optimizer)
        return False


def _progress(total, desc, verbose):
    if not verbose:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, unit="batch")


def fit(model, x, y, *, epochs=1, batch_size=32, optimizer=None, loss="cross_entropy",
        validation=None, teacher=None, temperature=2.0, alpha=0.5, label_smoothing=0.0,
        schedule=None, callbacks=(), seed=0, shuffle=True, threads=None, verbose=True):
    """Train `model` on (x, y) for `epochs` epochs of shuffled mini-batches.

    Parameters
    ----------
    model : gaba.zoo.Model
    x, y : the inputs (as :func:`backward` takes them) and the targets.
    epochs, batch_size : int
        The last batch of an epoch may be smaller.
    optimizer : gaba.optim optimizer, optional
        Default ``gaba.optim.AdamW(model, lr=1e-3)``.
    loss : str or callable
        One of :data:`LOSSES`, or ``fn(pred, target) -> (loss, grad)``.
    validation : (x_val, y_val), optional
        Evaluated after every epoch (:func:`evaluate`): ``val_loss``,
        ``val_accuracy``.
    teacher, temperature, alpha :
        Distillation from a teacher model (:func:`backward`).
    schedule : optional
        A learning-rate schedule of gaba.optim, stepped once per epoch.
    callbacks : iterable
        Called ``cb(model, epoch, logs)`` after each epoch; one returning
        True stops the fit (:class:`EarlyStopping`, :class:`ModelCheckpoint`).
    seed : int
        The shuffling's seed: the same seed, data and thread count give the
        same weights, bit for bit.
    threads : int, optional
        Threads a batch is split over (default: gaba's count).
    verbose : bool
        A progress bar per epoch (tqdm, when installed) and a line per epoch.

    Returns
    -------
    History
    """
    func = f"{model.name}.fit"
    arrays, n = model._gather_inputs(*_split(x))
    y = _targets(y, func, n)
    epochs = int_arg(epochs, func, "epochs", 0, 2**31 - 1)
    batch_size = int_arg(batch_size, func, "batch_size", 1, 2**31 - 1)
    seed = int_arg(seed, func, "seed", 0, 2**63 - 1)
    if n == 0:
        raise ValueError(f"{func}: no training samples")
    if validation is not None and (not isinstance(validation, (tuple, list))
                                   or len(validation) != 2):
        raise TypeError(f"{func}: validation must be an (x_val, y_val) pair, got "
                        f"{type(validation).__name__}"
                        + (f" of {len(validation)}" if isinstance(validation, (tuple, list))
                           else ""))
    if optimizer is None:
        from .optim import AdamW

        optimizer = AdamW(model, lr=1e-3)
    _check_optimizer(optimizer, func)
    for cb in callbacks:
        if isinstance(cb, ModelCheckpoint):
            cb.optimizer = optimizer
    kw = dict(loss=loss, teacher=teacher, temperature=temperature, alpha=alpha,
              label_smoothing=label_smoothing, threads=threads)
    rng = np.random.default_rng(seed)
    history = History()
    classes = y.dtype.kind in "iu"
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n) if shuffle else np.arange(n)
        bar = _progress(math.ceil(n / batch_size), f"epoch {epoch}/{epochs}", verbose)
        start, total, hits = time.perf_counter(), 0.0, 0
        for lo in range(0, n, batch_size):
            idx = order[lo:lo + batch_size]
            xb = tuple(np.ascontiguousarray(a[idx]) for a in arrays)
            with exclusive(model, func):
                value, pred = backward(model, xb, y[idx], **kw)
                optimizer.step()
            total += value * len(idx)
            if classes:
                hits += _correct(pred, y[idx], 1) or 0
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}")
        if bar is not None:
            bar.close()
        logs = {"epoch": epoch, "loss": total / n, "lr": optimizer.lr,
                "seconds": time.perf_counter() - start}
        if classes:
            logs["accuracy"] = hits / n
        if validation is not None:
            val = evaluate(model, validation[0], validation[1], loss=loss, threads=threads)
            logs.update({f"val_{k}": v for k, v in val.items()})
        history.epochs.append(logs)
        if verbose:
            print(f"epoch {epoch}/{epochs}: " + ", ".join(
                f"{k} {v:.4g}" for k, v in logs.items() if k != "epoch"))
        if schedule is not None:
            schedule.step()
        if any([cb(model, epoch, logs) for cb in callbacks]):  # every callback runs
            break
    return history

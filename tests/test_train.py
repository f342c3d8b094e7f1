"""Training in C (trainer.h, gaba/train.py): gradients, batch-norm statistics,
the fold into the model's weights and fit(), against PyTorch's autograd."""
import threading

import numpy as np
import pytest

import gaba
from gaba import train
from gaba.importers._graph import Graph
from grads import torch

F = torch.nn.functional


def bn_model(threads=2):
    """x (3, 5, 7) -> batch norm (ReLU) -> sigmoid: the trainer's batch-norm path alone."""
    g = Graph("test")
    g.add_input("x", (3, 5, 7))
    g.add("bn", "batchnorm", "x", "b", act="relu", scale=np.array([1.5, 0.5, 2], np.float32),
          shift=np.array([0.1, -0.2, 0.3], np.float32))
    g.add("s", "act", "b", "y", act="sigmoid")
    return g.build("toy", "test", "test", ["y"], threads=threads)


def given_grad(g):
    """A loss whose gradient with respect to the output is g (its value: <pred, g>)."""
    return lambda pred, target: (float((pred * g).sum()), g)


def test_batchnorm_training_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 5, 7)).astype(np.float32) * 2 + 0.5
    g = rng.standard_normal((8, 3, 5, 7)).astype(np.float32)
    results = []
    for threads in (1, 2):
        m = bn_model()
        p = m.parameters
        bn = torch.nn.BatchNorm2d(3)  # training mode: batch statistics, momentum 0.1
        with torch.no_grad():
            bn.weight[:] = torch.tensor(p["bn.weight"])
            bn.bias[:] = torch.tensor(p["bn.bias"])
        y = torch.sigmoid(torch.relu(bn(torch.tensor(x))))
        y.backward(torch.tensor(g))
        loss, pred = train.backward(m, x, np.zeros(8), loss=given_grad(g), threads=threads)
        np.testing.assert_allclose(pred, y.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.gradients["bn.weight"], bn.weight.grad, rtol=1e-4,
                                   atol=1e-5)
        np.testing.assert_allclose(m.gradients["bn.bias"], bn.bias.grad, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(m.buffers["bn.running_mean"], bn.running_mean, rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_allclose(m.buffers["bn.running_var"], bn.running_var, rtol=1e-5)
        results.append(np.concatenate([m.gradients[k].ravel() for k in sorted(m.gradients)]))
    np.testing.assert_array_equal(results[0], results[1])  # one thread for the whole batch


def test_model_weights_fold_the_running_statistics():
    rng = np.random.default_rng(1)
    m = bn_model()
    x = rng.standard_normal((16, 3, 5, 7)).astype(np.float32) * 3 - 1
    for _ in range(3):
        train.backward(m, x, np.zeros(16), loss=given_grad(np.ones_like(x)))
    m._weights_changed()
    p, s = m.parameters, m.buffers
    bn = torch.nn.BatchNorm2d(3).eval()
    with torch.no_grad():
        bn.weight[:], bn.bias[:] = torch.tensor(p["bn.weight"]), torch.tensor(p["bn.bias"])
        bn.running_mean[:] = torch.tensor(s["bn.running_mean"])
        bn.running_var[:] = torch.tensor(s["bn.running_var"])
        want = torch.sigmoid(torch.relu(bn(torch.tensor(x)))).numpy()
    np.testing.assert_allclose(m(x), want, rtol=1e-5, atol=1e-6)


def test_new_trainer_is_the_same_model():
    m = bn_model()
    x = np.random.default_rng(2).standard_normal((4, 3, 5, 7)).astype(np.float32)
    before = m(x)
    m.parameters  # unfolds the weights into the trainer
    m._weights_changed()  # and folds them back
    np.testing.assert_allclose(m(x), before, rtol=1e-6, atol=1e-7)


def test_training_arena_is_planned_per_batch():
    m = bn_model()
    small, large = m.training_arena_bytes(4), m.training_arena_bytes(32)
    # the batch's three activations (batch norm, ReLU, sigmoid) kept for backward, and at
    # most two of their gradients alive at once, besides the statistics
    assert 0 < small < large <= 32 * 105 * 4 * 5 + 1024


def test_backward_rejects_bad_targets():
    m = bn_model()
    x = np.zeros((4, 3, 5, 7), np.float32)
    with pytest.raises(ValueError, match="targets hold 3 samples"):
        train.backward(m, x, np.zeros(3), loss=given_grad(np.zeros_like(x)))
    with pytest.raises(TypeError, match="targets must be a numpy.ndarray"):
        train.backward(m, x, [0, 1, 2, 3], loss=given_grad(np.zeros_like(x)))
    with pytest.raises(ValueError, match="input 'x' must have shape"):
        train.backward(m, x[:, :2], np.zeros(4), loss=given_grad(np.zeros_like(x)))


def test_step_fit_and_evaluate_reject_what_they_cannot_use():
    m = bn_model()
    x, y = np.zeros((4, 3, 5, 7), np.float32), np.zeros((4, 3, 5, 7), np.float32)
    before = m.parameters["bn.weight"].copy()
    for opt in (None, "adam"):
        with pytest.raises(TypeError, match="optimizer must be a gaba.optim optimizer"):
            m.train_step(x, y, opt, loss="mse")
    with pytest.raises(TypeError, match="optimizer must be a gaba.optim optimizer"):
        train.fit(m, x, y, optimizer="adam", loss="mse", verbose=False)  # None: AdamW
    np.testing.assert_array_equal(m.parameters["bn.weight"], before)  # refused before any work
    with pytest.raises(TypeError, match=r"validation must be an \(x_val, y_val\) pair"):
        train.fit(m, x, y, loss="mse", validation=(x,), verbose=False)
    with pytest.raises(ValueError, match="no samples to evaluate"):
        m.evaluate(x[:0], np.zeros(0, np.int64))


def test_a_step_is_refused_while_another_thread_holds_the_model():
    m = bn_model()
    x, y = np.zeros((4, 3, 5, 7), np.float32), np.zeros((4, 3, 5, 7), np.float32)
    opt = gaba.optim.SGD(m, lr=0.1)
    with train.exclusive(m, "test"):  # as a step of this thread does, for the whole step
        m.train_step(x, y, opt, loss="mse")  # this thread: again
        box = []
        t = threading.Thread(target=lambda: box.append(_raised(m.train_step, x, y, opt,
                                                                loss="mse")))
        t.start()
        t.join()
        saver = threading.Thread(target=lambda: box.append(_raised(m.save, "never.npz")))
        saver.start()
        saver.join()
    assert all(isinstance(e, ValueError) and "running in another thread" in str(e)
               for e in box) and len(box) == 2, box
    assert opt.steps == 1


def _raised(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Exception as e:  # noqa: BLE001
        return e
    return None


class _State:
    """An optimizer's state_dict as gaba.optim's: numbers and per-parameter arrays."""

    def __init__(self, size):
        self.state = {"lr": 0.1, "steps": 3, "nesterov": False,
                      "momentum_buffer": np.arange(size, dtype=np.float32)}

    def state_dict(self):
        return self.state


def test_save_load_keeps_the_training_state(tmp_path):
    import gaba

    m = bn_model()
    x = np.random.default_rng(3).standard_normal((8, 3, 5, 7)).astype(np.float32)
    train.backward(m, x, np.zeros(8), loss=given_grad(np.ones_like(x)))
    m.parameters["bn.weight"][...] += 0.5
    m._weights_changed()
    opt = _State(m._train_arrays()[0].size)
    m.save(tmp_path / "m.npz", optimizer=opt)
    m2 = gaba.zoo.load(tmp_path / "m.npz")
    for views, views2 in ((m.parameters, m2.parameters), (m.buffers, m2.buffers)):
        assert views.keys() == views2.keys()
        for k in views:
            np.testing.assert_array_equal(views[k], views2[k])
    np.testing.assert_array_equal(m2(x), m(x))
    state = m2.optimizer_state
    assert state.pop("class") == "_State"
    assert state.keys() == opt.state.keys() and state["nesterov"] is False
    np.testing.assert_array_equal(state["momentum_buffer"], opt.state["momentum_buffer"])
    # a model that never trained writes no training state
    bn_model().save(tmp_path / "fresh.npz")
    assert gaba.zoo.load(tmp_path / "fresh.npz").optimizer_state is None

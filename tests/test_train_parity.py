"""Training parity: the same initial weights, batches and 200 steps of SGD with momentum
in gaba and in PyTorch (the model's mirror, benchmarks/zoo_torch.py's build_train) give
the same loss curve, on three families: a 2-D CNN, a 1-D CNN with a GRU, attention."""
import numpy as np
import pytest

from gaba import optim, zoo
from gaba.benchmarks.bench_zoo import make_inputs
from grads import torch

STEPS, BATCH, LR, MOMENTUM, N_BATCHES = 200, 8, 0.005, 0.9, 25
# The reference is PyTorch in float64. Training is chaotic: float32 rounding (about 1e-7
# a step) grows along the run, through batch norms over 8 samples and the ReLUs' kinks,
# and PyTorch's own float32 run leaves its float64 one by up to a few percent by step
# 200 on these models. So: within 1e-3 over the first EARLY steps, and then no further
# from float64 than twice PyTorch's float32 run is (a wrong update parts at once).
LOSS_RTOL, EARLY, FLOAT32_FACTOR = 1e-3, 50, 2.0


def losses(name, dtype=None):
    """The 200 losses of gaba (dtype None) or of the torch mirror in `dtype`."""
    from gaba.benchmarks import zoo_torch

    torch.set_num_threads(1)
    m = zoo.create(name, seed=0, threads=1)
    classes = next(iter(m.outputs.values()))["shape"][-1]
    rng = np.random.default_rng(0)
    batches = [(make_inputs(m, BATCH, seed), rng.integers(0, classes, BATCH))
               for seed in range(N_BATCHES)]
    if dtype is None:
        opt = optim.SGD(m, lr=LR, momentum=MOMENTUM)
        return np.array([m.train_step(tuple(x.values()), y, opt, threads=1)
                         for x, y in (batches[s % N_BATCHES] for s in range(STEPS))])
    net = zoo_torch.build_train(m).to(dtype)  # from m's initial parameters
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    out = []
    for step in range(STEPS):
        x, y = batches[step % N_BATCHES]
        opt.zero_grad()
        pred = net(*[torch.from_numpy(v).to(dtype) for v in x.values()])[0]
        loss = torch.nn.functional.cross_entropy(pred, torch.from_numpy(y))
        loss.backward()
        opt.step()
        out.append(loss.item())
    return np.array(out)


@pytest.mark.parametrize("name", ["GestureNetMicro", "FallDetectMicro", "EmotionRecogNano"])
def test_sgd_loss_curve_matches_torch(name):
    ours, t32, t64 = losses(name), losses(name, torch.float32), losses(name, torch.float64)
    assert t64[-1] < 0.8 * t64[0], "the recipe must train (else parity proves little)"
    err, err32 = np.abs(ours - t64) / t64, np.abs(t32 - t64) / t64
    early = err[:EARLY].max()
    assert early <= LOSS_RTOL, f"step {err[:EARLY].argmax()}: relative error {early:.3g}"
    assert err.max() <= max(LOSS_RTOL, FLOAT32_FACTOR * err32.max()), \
        f"gaba {err.max():.3g} from float64 at step {err.argmax()}, torch float32 {err32.max():.3g}"

"""Every op's backward against central finite differences of its own forward: an
oracle independent of PyTorch. For each float input and weight alone, along its own
gradient's direction and along a random one (unit vectors v), (L(p + h v) - L(p - h v))
/ 2h must equal <dL/dp, v>, where L = <y, g> for a fixed output gradient g."""
import numpy as np
import pytest

from gaba import _nn

pytestmark = pytest.mark.kernels  # rerun at every ISA level (test_isa_levels.py)

# float32 forwards: L carries a relative rounding of about 1e-7 of its terms, which the
# difference divides by 2h, and the truncation adds O(h^2). With h = 1e-2 these leave
# at most 4e-5 of |dL/dp| along the gradient and 2e-3 along a random direction (the
# GRU's, the largest) on these cases; the bound of 5e-3 |dL/dp| is far below the error
# of a wrong gradient (5% of the gradient off is 5e-2 |dL/dp| along its own direction).
H, RTOL = 1e-2, 5e-3

R = np.random.default_rng(0)


def f32(*shape, scale=1.0):
    return (R.standard_normal(shape) * scale).astype(np.float32)


# (op, inputs, weights, params, activation); inputs and weights drawn away from the
# activations' kinks only by chance, as a kink inside [p - h v, p + h v] is rare here.
CASES = {
    "conv2d": ("conv2d", [f32(2, 4, 7, 6)], [f32(6, 2, 3, 3), f32(6)],
               [6, 3, 3, 2, 1, 1, 0, 1, 2, 1, 1, 2], "none"),
    "conv1d": ("conv1d", [f32(2, 3, 11)], [f32(5, 3, 3), f32(5)],
               [5, 1, 3, 1, 1, 0, 4, 0, 0, 1, 2, 1], "none"),
    "depthwise": ("conv2d", [f32(2, 4, 6, 6)], [f32(4, 1, 3, 3), f32(4)],
                  [4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4], "none"),
    "dense": ("dense", [f32(3, 2, 5)], [f32(7, 10), f32(7)], [7], "none"),
    "sigmoid": ("act", [f32(2, 3, 8)], [], [], "sigmoid"),
    "tanh": ("act", [f32(2, 3, 8)], [], [], "tanh"),
    "softmax": ("softmax", [f32(3, 4, 6)], [], [], "none"),
    "avgpool": ("avgpool", [f32(2, 3, 7, 7)], [], [3, 3, 2, 2, 1, 1, 1, 1], "none"),
    "maxpool": ("maxpool", [f32(2, 3, 6, 6)], [], [2, 2, 2, 2, 0, 0, 0, 0], "none"),
    "global_avgpool": ("global_avgpool", [f32(2, 3, 5, 4)], [], [], "none"),
    "upsample_bilinear": ("upsample", [f32(2, 3, 4, 5)], [], [2, 2, 1], "none"),
    "mul_broadcast": ("mul", [f32(2, 3, 4, 5), f32(2, 3)], [], [], "none"),
    "sub": ("sub", [f32(2, 3, 4), f32(2, 3, 4)], [], [], "none"),
    "concat": ("concat", [f32(2, 3, 4), f32(2, 2, 4)], [], [], "none"),
    "transpose": ("transpose", [f32(2, 3, 5)], [], [], "none"),
    "layer_norm": ("layer_norm", [f32(2, 6, 5)], [f32(6), f32(6)], [0], "none"),
    "gru": ("gru", [f32(2, 4, 6)], [f32(15, 4, scale=0.5), f32(15, 5, scale=0.5), f32(15),
                                    f32(15)], [5, 1], "none"),
    "attention": ("attention", [f32(2, 6, 5)], [f32(12, 6, scale=0.5), f32(12),
                                                f32(6, 4, scale=0.5), f32(6)], [4], "none"),
}


def loss(op, xs, ws, params, act, g):
    y = _nn.layer(op, xs, ws, params, activation=act)
    return float((y.astype(np.float64) * g).sum())


def unit(a):
    a = a.astype(np.float64)
    return (a / max(np.linalg.norm(a), 1e-30)).astype(np.float32)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_matches_finite_differences(case, reference):
    op, xs, ws, params, act = CASES[case]
    y = _nn.layer(op, xs, ws, params, activation=act)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    _, dxs, dws = _nn.layer(op, xs, ws, params, activation=act, dy=g, reference=reference)
    tensors, grads = xs + ws, dxs + dws
    rng = np.random.default_rng(2)
    for i, (p, d) in enumerate(zip(tensors, grads)):
        for v in (unit(d), unit(rng.standard_normal(p.shape))):
            def at(sign):
                moved = [t + sign * H * v if j == i else t for j, t in enumerate(tensors)]
                return loss(op, moved[:len(xs)], moved[len(xs):], params, act, g)

            numeric = (at(1) - at(-1)) / (2 * H)
            analytic = float((d.astype(np.float64) * v).sum())
            norm = float(np.linalg.norm(d.astype(np.float64)))
            assert abs(numeric - analytic) <= RTOL * norm + 1e-6, \
                f"tensor {i}: {numeric} by differences, {analytic} by backward (|d| {norm})"

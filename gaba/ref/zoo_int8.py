"""Integer NumPy references of the zoo's int8 ops (docs/int8.md):
TFLite's integer kernels written from their formulas in int64 arithmetic,
with TFLite's requantization (gaba.ref.gemm.requantize), or for conv and
dense the fp32 one (qnn.h: a float32 scale per channel, one rounding)."""
import numpy as np

from . import nn
from .gemm import _divide_pot, _high_mul, quantize_multiplier, requantize

SHIFT_FP32 = 127  # qnn.h's GABA_QNN_SHIFT_FP32: the channel's mult holds a float32 scale
_FP32_BOUND = np.float32(2147483520.0)


def fp32_multiplier(scale):
    """(mult, shift) of a channel with fp32 requantization by `scale`."""
    return int(np.float32(scale).view(np.int32)), SHIFT_FP32


def requant_channels(acc, mult, shift, zy, lo, hi):
    """acc (..., co) int64 with the bias added -> int8, channel c by (mult[c],
    shift[c]): TFLite's MBQM, or where shift[c] is SHIFT_FP32,
    rint(float32(acc) * float32 scale) (half to even) + zy, clamped."""
    mult = np.atleast_1d(np.asarray(mult, np.int64))
    shift = np.atleast_1d(np.asarray(shift, np.int64))
    fp32 = shift == SHIFT_FP32
    out = requantize(acc, np.where(fp32, 0, mult), np.where(fp32, 0, shift), zy, None, lo, hi)
    if fp32.any():
        x = ((np.asarray(acc, np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.float32)
        scale = np.broadcast_to(mult.astype(np.int32).view(np.float32), x.shape[-1:])
        v = np.clip(x * scale, -_FP32_BOUND, _FP32_BOUND)  # one float32 product per value
        y = np.clip(np.rint(v).astype(np.int64) + zy, lo, hi).astype(np.int8)
        out = np.where(np.broadcast_to(fp32, out.shape), y, out)
    return out


def mbqm(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier on int64 arrays (scalar multiplier/shift)."""
    x = np.asarray(x, np.int64)
    left, right = max(shift, 0), max(-shift, 0)
    shifted = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)
    return _divide_pot(_high_mul(shifted, np.int64(multiplier)), right)


def clamp_for(act, out_scale, out_zp):
    """The activation as an int8 clamp of the output (relu: zp, relu6: zp + round(6/s))."""
    lo, hi = -128, 127
    if act in ("relu", "relu6"):
        lo = max(-128, out_zp)
    if act == "relu6":
        hi = max(lo, min(127, out_zp + int(np.floor(6.0 / float(np.float32(out_scale)) + 0.5))))
    return lo, hi


def conv(x, zx, w, bias, mult, shift, zy, lo, hi, stride=(1, 1), pad=(0, 0, 0, 0),
         dilation=(1, 1), groups=1):
    """x (C, H, W) int8, w (co, C/g, kh, kw) int8; pad (top, left, bottom, right) with zx."""
    acc = conv_acc(x, zx, w, bias, stride, pad, dilation, groups)
    out = np.empty(acc.shape, np.int8)
    for o in range(acc.shape[0]):
        y = requant_channels(acc[o].reshape(-1, 1), [mult[o]], [shift[o]], zy, lo, hi)
        out[o] = y.reshape(acc.shape[1:])
    return out


def conv_acc(x, zx, w, bias, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """conv's int64 accumulators (co, Ho, Wo), bias included, before the output stage."""
    c, h, wd = x.shape
    co, cig, kh, kw = w.shape
    pt, pl, pb, pr = pad
    xp = np.full((c, h + pt + pb, wd + pl + pr), zx, np.int64)
    xp[:, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    acc = np.zeros((co, ho, wo), np.int64)
    cog = co // groups
    for o in range(co):
        g = o // cog
        for ci in range(cig):
            for ky in range(kh):
                for kx in range(kw):
                    ys = ky * dilation[0]
                    xs = kx * dilation[1]
                    patch = xp[g * cig + ci, ys:ys + stride[0] * (ho - 1) + 1:stride[0],
                               xs:xs + stride[1] * (wo - 1) + 1:stride[1]]
                    acc[o] += (patch - zx) * int(w[o, ci, ky, kx])
    return acc + np.asarray(bias, np.int64)[:, None, None]


def dense(x, zx, w, bias, mult, shift, zy, lo, hi):
    acc = w.astype(np.int64) @ (x.reshape(-1).astype(np.int64) - zx) + np.asarray(bias, np.int64)
    return requant_channels(acc[None, :], mult, shift, zy, lo, hi)[0]


def maxpool(x, k, s):
    c, h, w = x.shape
    ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.full((c, ho, wo), -128, np.int64)
    for ky in range(k[0]):
        for kx in range(k[1]):
            window = x[:, ky:ky + s[0] * (ho - 1) + 1:s[0], kx:kx + s[1] * (wo - 1) + 1:s[1]]
            out = np.maximum(out, window)
    return out.astype(np.int8)


def _round_div(total, count):
    """TFLite's rounded average: half away from zero, C (truncating) division."""
    total = np.asarray(total, np.int64)
    num = np.where(total > 0, total + count // 2, total - count // 2)
    return (np.sign(num) * (np.abs(num) // count)).astype(np.int8)


def avgpool(x, k, s):
    c, h, w = x.shape
    ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    total = np.zeros((c, ho, wo), np.int64)
    for ky in range(k[0]):
        for kx in range(k[1]):
            total += x[:, ky:ky + s[0] * (ho - 1) + 1:s[0], kx:kx + s[1] * (wo - 1) + 1:s[1]]
    return _round_div(total, k[0] * k[1])


def global_pool(x, is_max):
    x = x.reshape(x.shape[0], -1).astype(np.int64)
    return x.max(1).astype(np.int8) if is_max else _round_div(x.sum(1), x.shape[1])


def _bilinear_weights(n, s):
    """(n s, n) integer weights of the half-pixel taps of an axis of n scaled by s, in
    units of 1 / (2s): output o reads src = (o + 1/2) / s - 1/2, taps clamped to the axis."""
    o = np.arange(n * s)
    num = 2 * (o % s) + 1 - s  # 2s (src - o // s)
    i0 = np.where(num < 0, o // s - 1, o // s)
    w1 = np.where(num < 0, 2 * s + num, num)
    m = np.zeros((n * s, n), np.int64)
    np.add.at(m, (o, np.clip(i0, 0, n - 1)), 2 * s - w1)
    np.add.at(m, (o, np.clip(i0 + 1, 0, n - 1)), w1)
    return m


def upsample_bilinear(x, zp, sh, sw):
    """x (C, H, W) int8 -> (C, H sh, W sw), bilinear with half-pixel centres, the output
    with x's parameters: zp + (sum wy wx (x - zp)) / (4 sh sw) rounded half away from zero."""
    c, h, w = x.shape
    v = _bilinear_weights(h, sh) @ (x.astype(np.int64) - zp) @ _bilinear_weights(w, sw).T
    d = 4 * sh * sw
    return (np.sign(v) * ((np.abs(v) + d // 2) // d) + zp).astype(np.int8)


def add(a, za, sa, b, zb, sb, zy, sy, lo, hi, subtract=False, requant="double"):
    """TFLite's int8 add: inputs shifted left by 20, rescaled to 2 max(sa, sb), summed.
    requant="fp32": (a - za) sa/sy +- (b - zb) sb/sy in float32 (each ratio, product
    and the sum rounded once), clamped, rint half to even (qnn.h)."""
    if requant == "fp32":
        f = np.float32
        va = (np.asarray(a, np.int64) - za).astype(f) * (f(sa) / f(sy))
        vb = (np.asarray(b, np.int64) - zb).astype(f) * (f(sb) / f(sy))
        v = np.clip(va - vb if subtract else va + vb, f(lo - zy), f(hi - zy))
        return (np.rint(v).astype(np.int64) + zy).astype(np.int8)
    twice = 2.0 * max(sa, sb)
    ma, sha = quantize_multiplier(sa / twice)
    mb, shb = quantize_multiplier(sb / twice)
    mo, sho = quantize_multiplier(twice / ((1 << 20) * sy))
    xa = mbqm((a.astype(np.int64) - za) * (1 << 20), ma, sha)
    xb = mbqm((b.astype(np.int64) - zb) * (1 << 20), mb, shb)
    raw = xa - xb if subtract else xa + xb
    return np.clip(mbqm(raw, mo, sho) + zy, lo, hi).astype(np.int8)


def mul(a, za, sa, b, zb, sb, zy, sy, lo, hi, requant="double"):
    """The product (a - za)(b - zb) requantized by sa sb / sy (fp32: that ratio in float32)."""
    m, s = fp32_multiplier(np.float32(sa) * np.float32(sb) / np.float32(sy)) if requant == "fp32" \
        else quantize_multiplier(sa * sb / sy)
    prod = (a.astype(np.int64) - za) * (b.astype(np.int64) - zb)
    return requant_channels(prod.reshape(-1, 1), [m], [s], zy, lo, hi).reshape(prod.shape)


def concat(xs, qs, zy, sy):
    """Concatenation on axis 0; inputs whose (scale, zp) differ from the output's rescaled."""
    parts = []
    for x, (s, z) in zip(xs, qs):
        if s == sy and z == zy:
            parts.append(x)
        else:
            m, sh = quantize_multiplier(s / ((1 << 20) * sy))
            shifted = (x.astype(np.int64) - z) * (1 << 20)
            parts.append(np.clip(mbqm(shifted, m, sh) + zy, -128, 127).astype(np.int8))
    return np.concatenate(parts, 0)


def lut(act, in_scale, in_zp, out_scale, out_zp):
    """The 256-entry table of an int8 sigmoid/tanh/hard-swish: entry q + 128 is the
    output code of input code q, the function evaluated in float64, rounded half
    away from zero."""
    x = np.float64(np.float32(in_scale)) * (np.arange(-128, 128, dtype=np.float64) - in_zp)
    if act == "sigmoid":
        f = 1.0 / (1.0 + np.exp(-x))
    elif act == "tanh":
        f = np.tanh(x)
    elif act == "hard_swish":
        f = x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    else:
        raise ValueError(f"no table for activation {act!r}")
    v = f / np.float64(np.float32(out_scale))
    v = np.sign(v) * np.floor(np.abs(v) + 0.5) + out_zp
    return np.clip(v, -128, 127).astype(np.int8)


def apply_lut(x, table):
    return table[x.astype(np.int64) + 128]


def embedding(ids, table):
    """Rows of the int8 (vocab, dim) table for the ids, channel-major (dim, L)."""
    return table[np.asarray(ids, np.int64)].T.copy()


def softmax(x, exp_table):
    """The integer softmax of each row of x (int8): e = exp_table[max - x],
    p = floor((512 e + sum e) / (2 sum e)) - 128, at most 127 (scale 1/256, zp -128)."""
    x = x.astype(np.int64)
    e = np.asarray(exp_table, np.int64)[x.max(axis=1, keepdims=True) - x]
    s = e.sum(axis=1, keepdims=True)
    return np.minimum((512 * e + s) // (2 * s) - 128, 127)


def _wrap(x):
    """int64 values as the int32 a wrapping add leaves."""
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def _sat_shl(x, e):
    """x * 2^e saturated to int32 (gemmlowp's SaturatingRoundingMultiplyByPOT, e > 0)."""
    return np.clip(x << e, -(1 << 31), (1 << 31) - 1)


_EXP_BITS = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242]


def _exp_negative(a):
    """gemmlowp's exp_on_negative_values of Q5.26 raws a <= 0, Q0.31 raws: the
    Taylor series around -1/8 for a mod 1/4 - 1/4, times exp(-2^k) for each
    bit k (-2..4) of the rest."""
    amod = (a & ((1 << 24) - 1)) - (1 << 24)
    x = _wrap(_sat_shl(amod, 5) + (1 << 28))
    x2 = _high_mul(x, x)
    x3, x4 = _high_mul(x2, x), _high_mul(x2, x2)
    t = _divide_pot(_wrap(_high_mul(_wrap(_divide_pot(x4, 2) + x3), 715827883) + x2), 1)
    c = 1895147668  # exp(-1/8)
    r = _wrap(c + _high_mul(np.int64(c), _wrap(x + t)))
    rest = amod - a
    for k, m in enumerate(_EXP_BITS):
        r = np.where(rest & (1 << (24 + k)) != 0, _high_mul(r, np.int64(m)), r)
    return np.where(a == 0, (1 << 31) - 1, r)


def _one_over_one_plus(a):
    """gemmlowp's one_over_one_plus_x_for_x_in_0_1 on Q0.31 raws: Newton-Raphson in Q2.29."""
    s = a + (1 << 31) - 1
    v = s + np.where(s >= 0, 1, -1)
    d = np.sign(v) * (np.abs(v) // 2)  # truncating halving
    x = _wrap(1515870810 + _high_mul(d, np.int64(-1010580540)))
    for _ in range(3):
        err = _wrap((1 << 29) - _high_mul(d, x))
        x = _wrap(x + _sat_shl(_high_mul(x, err), 2))
    return _sat_shl(x, 1)


def softmax_params(in_scale):
    """TFLite's int8 softmax parameters for beta 1: (multiplier, left shift, diff_min):
    in_scale 2^26 (at most 2^31 - 1) split by frexp into a Q31 multiplier (rounded half
    away from zero) and a shift, diff_min = -floor(31 2^26 / 2^shift)."""
    import math

    real = min(float(np.float32(in_scale)) * 2.0 ** 26, 2.0 ** 31 - 1)
    if not real > 1.0:
        raise ValueError(f"softmax_params(): in_scale {in_scale!r} is too small")
    q, shift = math.frexp(real)
    fixed = math.floor(q * 2.0 ** 31 + 0.5)
    if fixed == 1 << 31:
        fixed, shift = fixed // 2, shift + 1
    return fixed, shift, -math.floor(31 * 2.0 ** 26 / 2.0 ** shift)


def softmax_tflite(x, in_scale):
    """TFLite's int8 softmax (reference_ops::Softmax, gemmlowp fixed point) over the last
    axis of the int8 x with input scale in_scale: int8 out, scale 1/256, zp -128. A row
    whose sum of exp values reaches 512 (TFLite's exponent check fails) is -128."""
    mult, shift, diff_min = softmax_params(in_scale)
    x = np.asarray(x, np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    keep = diff >= diff_min
    e = _exp_negative(_high_mul(np.where(keep, diff, 0) << shift, np.int64(mult)))
    e = np.where(keep, e, 0)
    total = _divide_pot(e, 12).sum(axis=-1, keepdims=True)
    small = total < (1 << 28)
    total = np.where(small, total, 1 << 19)
    lead = 32 - np.frexp(total.astype(np.float64))[1]
    recip = _one_over_one_plus((total << lead) - (1 << 31))
    y = _divide_pot(_high_mul(recip, e), 12 - lead + 31 - 8) - 128
    return np.where(keep & small, np.clip(y, -128, 127), -128).astype(np.int8)


def attention(x, p):
    """The int8 single-head self-attention (gaba/qnn.h, gaba_qnn_attention) of x (D, L)
    from its parameters `p` (the node's weights in _gaba.zoo_qgraph)."""
    def project(i, v):
        q = p["proj"][i]
        w = q["weight"].reshape(q["weight"].shape + (1, 1))
        return conv(v[:, None, :], q["in_zp"], w, q["bias"], q["mult"], q["shift"], q["out_zp"],
                    q["act_min"], q["act_max"])[:, 0, :]

    qm, km, vm = (project(i, x).astype(np.int64) - p["proj"][i]["out_zp"] for i in range(3))
    mult, shift, zp = p["score"]
    scores = np.clip(mbqm(qm.T @ km, mult, shift) + zp, -128, 127)  # (L, L)
    probs = softmax(scores, p["exp_table"]) + 128
    mult, shift = p["ctx"]
    ctx = np.clip(mbqm(vm @ probs.T, mult, shift) + p["proj"][3]["in_zp"], -128, 127)  # (dk, L)
    return project(3, ctx.astype(np.int8))


def gru_projections(x, zx, w, bias, acc_scale):
    """The int8 GRU's input projections (gaba/qnn.h) of x (F, T) int8 as (T, 3H)
    float32: float32(bias[j] + sum_k w[j, k] (x[k, t] - zx)) * acc_scale[j], the
    sums exact in int64."""
    acc = bias.astype(np.int64) + (x.astype(np.int64) - zx).T @ w.astype(np.int64).T
    return acc.astype(np.float32) * np.asarray(acc_scale, np.float32)


def gru(x, zx, p, seq, zy, sy):
    """The int8 GRU of x (F, T) from its node's weights `p` (_gaba.zoo_qgraph's):
    the exact projections, the float recurrence in float64 (gaba.ref.nn.gru, fed
    the projections through an identity W_ih), every state quantized to (sy, zy)
    with rounding half away from zero."""
    xp = gru_projections(x, zx, p["w_ih_int8"], p["b_ih_int32"], p["acc_scale"])
    g3 = xp.shape[1]
    h = nn.gru(xp.T[None], np.eye(g3), p["w_hh"], np.zeros(g3), p["b_hh"], bool(seq))[0]
    v = h / np.float64(np.float32(sy))
    return np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zy, -128, 127).astype(np.int8)

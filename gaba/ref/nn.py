"""Reference layer ops of the model zoo, in float64 NumPy.

Written from the formulas in docs/zoo.md with explicit loops or einsum, batch
first (NCHW / NCL), never calling gaba: the oracles of tests/test_nn.py.
"""
import numpy as np


def act(x, name):
    """none, relu, relu6, sigmoid, tanh, hard_swish."""
    x = np.asarray(x, np.float64)
    if name in (None, "none"):
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "relu6":
        return np.clip(x, 0.0, 6.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "hard_swish":
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    raise ValueError(name)


def conv2d(x, w, b, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, activation=None):
    """x (N, C, H, W), w (Co, C/groups, kh, kw), pad (top, left, bottom, right)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    co, cig, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    pt, pl, pb, pr = pad
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    cog = co // groups
    y = np.zeros((n, co, ho, wo))
    for g in range(groups):
        xg = xp[:, g * cig:(g + 1) * cig]
        wg = w[g * cog:(g + 1) * cog]
        for ky in range(kh):
            for kx in range(kw):
                patch = xg[:, :, ky * dh: ky * dh + sh * (ho - 1) + 1: sh,
                           kx * dw: kx * dw + sw * (wo - 1) + 1: sw]
                y[:, g * cog:(g + 1) * cog] += np.einsum("nchw,oc->nohw", patch, wg[:, :, ky, kx])
    if b is not None:
        y += np.asarray(b, np.float64)[None, :, None, None]
    return act(y, activation)


def conv1d(x, w, b, stride=1, pad=(0, 0), dilation=1, groups=1, activation=None):
    """x (N, C, L), w (Co, C/groups, k), pad (left, right)."""
    y = conv2d(np.asarray(x)[:, :, None, :], np.asarray(w)[:, :, None, :], b, (1, stride),
               (0, pad[0], 0, pad[1]), (1, dilation), groups, activation)
    return y[:, :, 0, :]


def dense(x, w, b, activation=None):
    """x (N, ...) read flat, w (n_out, F)."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return act(x @ np.asarray(w, np.float64).T + np.asarray(b, np.float64), activation)


def embedding(ids, table):
    """ids (N, L) -> (N, dim, L)."""
    return np.asarray(table, np.float64)[np.asarray(ids)].transpose(0, 2, 1)


def batchnorm(x, scale, shift, activation=None):
    """Per-channel affine of x (N, C, ...)."""
    x = np.asarray(x, np.float64)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return act(x * np.reshape(scale, shape) + np.reshape(shift, shape), activation)


def batchnorm_fold(w, b, gamma, beta, mean, var, eps):
    """(w', b') with conv(x, w') + b' == BN(conv(x, w) + b)."""
    s = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    w2 = np.asarray(w, np.float64) * s.reshape((-1,) + (1,) * (np.ndim(w) - 1))
    return w2, (np.asarray(b, np.float64) - mean) * s + beta


def softmax(x):
    """Over the last axis."""
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def pool2d(x, kind, kernel, stride, pad=(0, 0, 0, 0)):
    """max / avg over (N, C, H, W); padding is -inf for max, not counted by avg."""
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (pt, pl, pb, pr) = kernel, stride, pad
    ho, wo = (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1
    y = np.zeros((n, c, ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            y0, x0 = oy * sh - pt, ox * sw - pl
            win = x[:, :, max(y0, 0):min(y0 + kh, h), max(x0, 0):min(x0 + kw, w)]
            y[:, :, oy, ox] = win.max(axis=(2, 3)) if kind == "max" else win.mean(axis=(2, 3))
    return y


def global_pool(x, kind):
    x = np.asarray(x, np.float64).reshape(x.shape[0], x.shape[1], -1)
    return x.max(axis=2) if kind == "max" else x.mean(axis=2)


def upsample2d(x, sh, sw, mode):
    """nearest, or bilinear with half-pixel centres (align_corners=False)."""
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    if mode == "nearest":
        return x.repeat(sh, axis=2).repeat(sw, axis=3)

    def axis(n_in, s):
        src = np.maximum((np.arange(n_in * s) + 0.5) / s - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    y0, y1, fy = axis(h, sh)
    x0, x1, fx = axis(w, sw)
    top = x[:, :, y0][:, :, :, x0] * (1 - fx) + x[:, :, y0][:, :, :, x1] * fx
    bot = x[:, :, y1][:, :, :, x0] * (1 - fx) + x[:, :, y1][:, :, :, x1] * fx
    return top * (1 - fy)[:, None] + bot * fy[:, None]


def gru(x, w_ih, w_hh, b_ih, b_hh, return_sequences=False):
    """x (N, F, T); PyTorch's GRU equations, h0 = 0."""
    x = np.asarray(x, np.float64)
    n, f, t = x.shape
    hd = w_hh.shape[1]
    h = np.zeros((n, hd))
    seq = []
    for s in range(t):
        gi = x[:, :, s] @ np.asarray(w_ih, np.float64).T + b_ih
        gh = h @ np.asarray(w_hh, np.float64).T + b_hh
        r = 1 / (1 + np.exp(-(gi[:, :hd] + gh[:, :hd])))
        z = 1 / (1 + np.exp(-(gi[:, hd:2 * hd] + gh[:, hd:2 * hd])))
        nn_ = np.tanh(gi[:, 2 * hd:] + r * gh[:, 2 * hd:])
        h = (1 - z) * nn_ + z * h
        seq.append(h)
    return np.stack(seq, axis=2) if return_sequences else h


def attention(x, w_qkv, b_qkv, w_o, b_o):
    """Single-head self-attention over positions of x (N, D, L) -> (N, D, L)."""
    x = np.asarray(x, np.float64)
    dk = w_o.shape[1]
    qkv = np.einsum("jd,ndl->nlj", np.asarray(w_qkv, np.float64), x) + b_qkv
    q, k, v = qkv[..., :dk], qkv[..., dk:2 * dk], qkv[..., 2 * dk:]
    p = softmax(np.einsum("npk,nqk->npq", q, k) / np.sqrt(dk))
    ctx = np.einsum("npq,nqk->npk", p, v)
    y = np.einsum("dk,nlk->ndl", np.asarray(w_o, np.float64), ctx)
    return y + np.asarray(b_o)[None, :, None]

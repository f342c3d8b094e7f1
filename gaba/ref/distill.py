"""Reference distillation loss (Hinton et al. 2015) in float64, from the documented formulas."""
import numpy as np


def log_softmax(x):
    x = np.asarray(x, np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def distillation_loss(student, teacher, temperature=2.0, alpha=0.5, labels=None,
                      reduction="batchmean"):
    """Returns (loss, grad) in float64: loss reduced as asked, grad = d loss / d student."""
    s = np.asarray(student, np.float64)
    t = np.asarray(teacher, np.float64)
    T = float(temperature)
    n = s.shape[0]
    log_q = log_softmax(s / T)
    log_p = log_softmax(t / T)
    p, q = np.exp(log_p), np.exp(log_q)
    # 0 * log 0 = 0: where p underflows, the term is dropped.
    kl = np.where(p > 0, p * (log_p - log_q), 0.0).sum(axis=1)
    soft = T * T * kl
    grad = T * (q - p)
    if labels is None:
        per_sample = soft
    else:
        labels = np.asarray(labels)
        log_sm = log_softmax(s)
        hard = -log_sm[np.arange(n), labels]
        per_sample = alpha * soft + (1 - alpha) * hard
        onehot = np.zeros_like(s)
        onehot[np.arange(n), labels] = 1.0
        grad = alpha * grad + (1 - alpha) * (np.exp(log_sm) - onehot)
    if reduction == "none":
        return per_sample, grad
    if reduction == "sum":
        return per_sample.sum(), grad
    return per_sample.sum() / n, grad / n

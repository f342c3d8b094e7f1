"""Knowledge-distillation loss: gaba.distillation_loss."""
import numpy as np

from ._ext import _gaba


def distillation_loss(student_logits, teacher_logits, temperature=2.0, alpha=0.5, labels=None, *,
                      reduction="batchmean", return_grad=False):
    """Hinton et al. (2015) distillation loss on float32 logits, with its gradient.

    With ``p = softmax(teacher / T)`` and ``q = softmax(student / T)`` per
    sample (T = `temperature`)::

        soft = T**2 * KL(p || q) = T**2 * sum_j p_j * (log p_j - log q_j)
        hard = cross_entropy(student, labels)            # at T = 1
        loss = alpha * soft + (1 - alpha) * hard         # with labels
        loss = soft                                      # without labels (alpha unused)

    The T**2 factor keeps the soft term's gradient on the scale of the hard
    term's as T changes (Hinton et al., section 2).

    Conventions elsewhere, in these terms:

    * PyTorch recipe: ``alpha * F.kl_div(F.log_softmax(s / T, 1),
      F.softmax(t / T, 1), reduction="batchmean") * T * T + (1 - alpha) *
      F.cross_entropy(s, y)`` is exactly this loss.
    * Keras ``Distiller`` example: ``alpha * student_loss + (1 - alpha) *
      distillation_loss``, so its alpha weights the *hard* term: pass
      ``alpha = 1 - keras_alpha``.
    * DeiT (soft distillation): ``base * (1 - alpha) + kd * alpha`` with the
      same alpha, but its kd term divides by ``N * C`` (``numel``) instead of
      N: DeiT's kd equals this soft term divided by C.

    Parameters
    ----------
    student_logits, teacher_logits : numpy.ndarray, float32, shape (N, C) or (C,)
        Raw (pre-softmax) logits; a 1-D array is one sample. C-contiguous
        inputs are read in place; others are copied once.
    temperature : float > 0
    alpha : float in [0, 1]
        Weight of the soft term when `labels` are given.
    labels : array of int, shape (N,), optional
        Class indices in ``[0, C)`` for the hard (cross-entropy) term.
    reduction : {"batchmean", "sum", "none"}
        ``"batchmean"``: sum over samples / N (PyTorch's ``kl_div`` batchmean,
        and the mean of the cross-entropy); ``"sum"``; ``"none"``: one loss
        per sample, shape (N,).
    return_grad : bool
        Also return d loss / d student_logits (float32, the logits' shape):
        ``alpha * T * (q - p) + (1 - alpha) * (softmax(student) - onehot(labels))``,
        divided by N for batchmean. For ``"none"`` it is the gradient of the
        sum of the per-sample losses.

    Returns
    -------
    loss : float, or numpy.ndarray float32 of shape (N,) for reduction="none"
        Accumulated in float64. Batchmean of an empty batch is NaN.
    grad : numpy.ndarray, float32
        Only when `return_grad` is true: ``(loss, grad)``.

    Raises
    ------
    TypeError
        If the logits are not float32 numpy.ndarrays, or `labels` not integers.
    ValueError
        For logits of different shapes or more than 2-D, a temperature that is
        not finite and > 0, alpha outside [0, 1], labels of the wrong length or
        outside ``[0, C)``, or an unknown reduction.

    Notes
    -----
    Log-softmax subtracts each row's maximum first, so logits of +-1e4 give
    finite, exact-as-float32 results. A NaN or +-Inf logit makes that
    sample's loss (and gradient row) NaN; other samples are unaffected. A
    teacher probability that underflows to 0 contributes 0 (``0 log 0 = 0``).
    Large batches run on gaba's thread pool; the result does not depend on
    the thread count.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> s = np.array([[1.0, 2.0, 3.0]], np.float32)
    >>> round(gaba.distillation_loss(s, s), 6)
    0.0
    >>> loss, grad = gaba.distillation_loss(s, s[:, ::-1].copy(), 2.0, 0.5, return_grad=True)
    >>> grad.shape
    (1, 3)
    """
    one_sample = isinstance(student_logits, np.ndarray) and student_logits.ndim == 1
    if one_sample:
        student_logits = student_logits.reshape(1, -1)
        if isinstance(teacher_logits, np.ndarray) and teacher_logits.ndim == 1:
            teacher_logits = teacher_logits.reshape(1, -1)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = labels.reshape(1)
        if labels.dtype.kind not in "iu":
            raise TypeError("distillation_loss(): labels must be integers, got dtype "
                            f"{labels.dtype}")
        labels = labels.astype(np.int64, copy=False)
    # temperature and alpha go as given: the binding reads any real number and
    # turns an int too large for a float into ValueError (float() would raise
    # OverflowError).
    loss, grad = _gaba.distillation_loss(student_logits, teacher_logits, temperature, alpha,
                                         labels, reduction, bool(return_grad))
    if one_sample and grad is not None:
        grad = grad.reshape(-1)
    return (loss, grad) if return_grad else loss

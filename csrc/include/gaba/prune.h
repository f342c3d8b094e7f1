// prune.h - magnitude pruning of float32 weights: unstructured (exactly k
// zeros, chosen by |w| in O(n) by radix selection), structured (whole
// slices along an axis, by L2 norm) and N:M (keep N of every M consecutive
// weights, as 2:4 sparse tensor cores want).
//
// Outputs: `out` holds the weights with pruned entries set to +0.0, `mask`
// holds 1 where the weight is kept and 0 where it is pruned (the convention
// of TF-MOT and torch.nn.utils.prune). Inputs are dense C-order arrays.
//
// Order of pruning, shared by all three: smaller magnitude first; equal
// magnitudes are pruned in increasing index order (lower index first), so
// results are deterministic; -0.0 equals +0.0; NaN counts as larger than
// every number (never pruned before a number), Inf as larger than finite.
#ifndef GABA_PRUNE_H
#define GABA_PRUNE_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

// Zeroes exactly k of the n weights (0 <= k <= n), the k smallest |x|.
gaba_status gaba_prune_magnitude_f32(int64_t n, int64_t k,
                                     const float *x, // (n)
                                     float *out,     // (n)
                                     uint8_t *mask); // (n)

// x viewed as (outer, d, inner): slice j is x[:, j, :]. Zeroes the k slices
// (0 <= k <= d) of smallest L2 norm (float64 sums of squares). norms may be
// NULL; otherwise it receives every slice's norm.
gaba_status gaba_prune_structured_f32(int64_t outer, int64_t d, int64_t inner, int64_t k,
                                      const float *x, // (outer, d, inner)
                                      float *out,     // (outer, d, inner)
                                      uint8_t *mask,  // (outer, d, inner)
                                      double *norms); // (d) or NULL

// N:M: in each of the `groups` runs of m consecutive weights, keeps the
// keep_n largest |x| and zeroes the other m - keep_n. 0 <= keep_n <= m <= 256.
gaba_status gaba_prune_nm_f32(int64_t groups, int64_t keep_n, int64_t m,
                              const float *x, // (groups, m)
                              float *out,     // (groups, m)
                              uint8_t *mask); // (groups, m)

#ifdef __cplusplus
}
#endif
#endif // GABA_PRUNE_H

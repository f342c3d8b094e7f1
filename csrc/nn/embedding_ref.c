// embedding_ref.c - token ids to vectors, written channel-major (dim, L) so
// a CONV1D can follow without a transpose, and the backward's scatter into
// the table's rows. Memory-bound: these loops are also the fast path. Ids are checked here, not
// trusted: each is loaded once and the checked value is the one used, so a caller's thread
// rewriting `ids` meanwhile can corrupt the output but never index outside
// the table.
#include "nn_kernels.h"

gaba_status gaba_nn_embedding_f32_ref(int64_t l, int64_t dim, int64_t vocab, const int32_t *ids,
                                      const float *table, float *y) {
    for (int64_t t = 0; t < l; t++) {
        int32_t id = __atomic_load_n(&ids[t], __ATOMIC_RELAXED);
        if (id < 0 || id >= vocab) return GABA_ERR_ARG;
        const float *row = table + (int64_t)id * dim;
        for (int64_t d = 0; d < dim; d++) y[d * l + t] = row[d];
    }
    return GABA_OK;
}

gaba_status gaba_nn_embedding_backward_f32_ref(int64_t l, int64_t dim, int64_t vocab,
                                               const int32_t *ids, const float *dy, float *dtable) {
    for (int64_t t = 0; t < l; t++) {
        int32_t id = __atomic_load_n(&ids[t], __ATOMIC_RELAXED);
        if (id < 0 || id >= vocab) return GABA_ERR_ARG;
        float *row = dtable + (int64_t)id * dim;
        for (int64_t d = 0; d < dim; d++) row[d] += dy[d * l + t];
    }
    return GABA_OK;
}

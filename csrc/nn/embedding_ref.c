// embedding_ref.c - token ids to vectors, written channel-major (dim, L) so
// a CONV1D can follow without a transpose. A gather is memory-bound: this
// loop is also the fast path. Ids are checked here, not trusted.
#include "nn_kernels.h"

gaba_status gaba_nn_embedding_f32_ref(int64_t l, int64_t dim, int64_t vocab,
                                      const int32_t *ids, const float *table, float *y) {
    for (int64_t t = 0; t < l; t++)
        if (ids[t] < 0 || ids[t] >= vocab) return GABA_ERR_ARG;
    for (int64_t t = 0; t < l; t++) {
        const float *row = table + (int64_t)ids[t] * dim;
        for (int64_t d = 0; d < dim; d++) y[d * l + t] = row[d];
    }
    return GABA_OK;
}

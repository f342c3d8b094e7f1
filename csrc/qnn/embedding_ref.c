// embedding_ref.c - the int8 embedding gather (qnn.h): token ids to int8
// vectors written channel-major (dim, L); also the fast path.
#include "qnn_kernels.h"

// The float op's gather (embedding_ref.c) on the int8 table: y (dim, l); each
// id loaded once, checked and used (embedding_ref.c says why).
gaba_status gaba_qnn_embedding_ref(int64_t l, int64_t dim, int64_t vocab, const int32_t *ids,
                                   const int8_t *table, int8_t *y) {
    for (int64_t t = 0; t < l; t++) {
        int32_t id = __atomic_load_n(&ids[t], __ATOMIC_RELAXED);
        if (id < 0 || id >= vocab) return GABA_ERR_ARG;
        const int8_t *row = table + (int64_t)id * dim;
        for (int64_t d = 0; d < dim; d++) y[d * l + t] = row[d];
    }
    return GABA_OK;
}

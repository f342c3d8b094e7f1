// plan.c - the static memory plan: TFLite Micro's GreedyMemoryPlanner.
// Tensors are taken largest first; each goes at the lowest 64-byte aligned
// offset where it overlaps (in memory) no already placed tensor whose
// lifetime [first, last] overlaps its own. Not optimal (the problem is
// NP-hard), but within a few percent on chains, and deterministic.
#include "plan.h"

#include <stdlib.h>

#define ALIGN 64

static int64_t round_up(int64_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

typedef struct {
    const gaba_zoo_tensor *t;
    int index;
} item;

static int by_size_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->t->bytes != y->t->bytes) return x->t->bytes < y->t->bytes ? 1 : -1;
    return x->index - y->index; // stable: ties in table order
}

gaba_status gaba_zoo_plan(gaba_zoo_tensor *tensors, int n, int64_t *arena_bytes) {
    item *items = malloc((size_t)(n ? n : 1) * sizeof *items);
    int *placed = malloc((size_t)(n ? n : 1) * sizeof *placed);
    if (!items || !placed) {
        free(items);
        free(placed);
        return GABA_ERR_NOMEM;
    }
    int count = 0, n_placed = 0;
    for (int i = 0; i < n; i++)
        if (tensors[i].kind == 0 || tensors[i].kind == 3) items[count++] = (item){&tensors[i], i};
    qsort(items, (size_t)count, sizeof *items, by_size_desc);
    int64_t total = 0;
    for (int i = 0; i < count; i++) {
        gaba_zoo_tensor *t = &tensors[items[i].index];
        int64_t size = round_up(t->bytes), offset = 0;
        // Lowest gap: retry after every conflict until a pass finds none.
        for (int moved = 1; moved;) {
            moved = 0;
            for (int j = 0; j < n_placed; j++) {
                const gaba_zoo_tensor *o = &tensors[placed[j]];
                if (o->last < t->first || t->last < o->first) continue; // never alive together
                int64_t oend = o->offset + round_up(o->bytes);
                if (offset < oend && o->offset < offset + size) {
                    offset = oend;
                    moved = 1;
                }
            }
        }
        t->offset = offset;
        placed[n_placed++] = items[i].index;
        if (offset + size > total) total = offset + size;
    }
    free(items);
    free(placed);
    *arena_bytes = total;
    return GABA_OK;
}

// arena.c - one aligned block carved by a bump pointer (llm.c's
// malloc_and_point, tflite-micro's arena without the planner), plus the
// aligned heap allocation kernels use for scratch. The arena never grows:
// a request that does not fit returns NULL, and the model planner sizes the
// block up front so inference allocates nothing.
#include "gaba/gaba.h"

#include <stdlib.h>
#include <string.h>

static size_t round_up(size_t bytes) {
    return (bytes + GABA_ALIGN - 1) & ~(size_t)(GABA_ALIGN - 1);
}

void *gaba_aligned_alloc(size_t bytes) {
    if (bytes > SIZE_MAX - GABA_ALIGN) return NULL;
    // aligned_alloc wants a multiple of the alignment; 0 bytes still gets a
    // unique pointer so callers need no special case.
    return aligned_alloc(GABA_ALIGN, round_up(bytes ? bytes : 1));
}

void gaba_aligned_free(void *ptr) { free(ptr); }

gaba_status gaba_arena_init(gaba_arena *arena, size_t capacity) {
    if (!arena) return GABA_ERR_ARG;
    memset(arena, 0, sizeof *arena);
    arena->base = gaba_aligned_alloc(capacity);
    if (!arena->base) return GABA_ERR_NOMEM;
    arena->capacity = capacity;
    return GABA_OK;
}

void gaba_arena_free(gaba_arena *arena) {
    if (!arena) return;
    gaba_aligned_free(arena->base);
    memset(arena, 0, sizeof *arena);
}

void *gaba_arena_alloc(gaba_arena *arena, size_t bytes) {
    if (!arena || !arena->base) return NULL;
    size_t start = round_up(arena->used);
    if (start > arena->capacity || bytes > arena->capacity - start) return NULL;
    arena->used = start + bytes;
    if (arena->used > arena->high_water) arena->high_water = arena->used;
    return arena->base + start;
}

void gaba_arena_reset(gaba_arena *arena, size_t mark) {
    if (arena && mark <= arena->used) arena->used = mark;
}

// registry.c - the catalogue of zoo models, in the order gaba.zoo.names()
// lists them: vision, audio, sensor (the 30), then the MLPerf Tiny
// reference networks.
#include "gaba/zoo.h"

#include <string.h>

#define MODELS(X)                        \
    X(gaba_zoo_keyword_spot_micro)

#define DECLARE(sym) extern const gaba_zoo_def sym;
MODELS(DECLARE)
#define ENTRY(sym) &sym,
static const gaba_zoo_def *const registry[] = {MODELS(ENTRY)};

const gaba_zoo_def *const *gaba_zoo_registry(int *count) {
    if (count) *count = (int)(sizeof registry / sizeof registry[0]);
    return registry;
}

const gaba_zoo_def *gaba_zoo_find(const char *name) {
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

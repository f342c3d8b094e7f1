// dispatch.c - picks the ISA level once (the CPU's best, or GABA_ISA) and has
// every kernel family fill its function-pointer table for that level, as
// BLIS's bli_cntx_init_<arch> and NumPy's dispatcher do. A family registers
// by adding one row to family_tables below; its kernels then never test CPU
// features on the hot path.
#include "gaba/gaba.h"
#include "dispatch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const isa_names[GABA_ISA_COUNT] = {"ref", "avx2", "avx512"};

const char *gaba_isa_name(gaba_isa isa) {
    return (unsigned)isa < GABA_ISA_COUNT ? isa_names[isa] : "unknown";
}

gaba_status gaba_isa_parse(const char *name, gaba_isa *isa) {
    char lower[16];
    size_t len = strlen(name);
    if (len >= sizeof lower) return GABA_ERR_ARG;
    for (size_t i = 0; i <= len; i++) lower[i] = (char)tolower((unsigned char)name[i]);
    for (int i = 0; i < GABA_ISA_COUNT; i++) {
        if (strcmp(lower, isa_names[i]) == 0) {
            *isa = (gaba_isa)i;
            return GABA_OK;
        }
    }
    return GABA_ERR_ARG;
}

// One row per kernel family: its table filler, called once with the level.
static void (*const family_tables[])(gaba_isa) = {
    gaba_gemm_dispatch_init, gaba_distill_dispatch_init, gaba_quant_dispatch_init,
    gaba_nn_dispatch_init,   gaba_gemm_s8_dispatch_init,
};

static gaba_isa active_isa = GABA_ISA_REF;
static gaba_status init_status = GABA_OK;
static char init_error[256];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void runtime_init_once(void) {
    const gaba_cpu_info *cpu = gaba_cpu();
    gaba_isa isa = cpu->best_isa;
    const char *forced = getenv("GABA_ISA");
    if (forced && *forced && strcmp(forced, "auto") != 0) {
        if (gaba_isa_parse(forced, &isa) != GABA_OK) {
            init_status = GABA_ERR_ARG;
            snprintf(init_error, sizeof init_error,
                     "GABA_ISA=%.32s is not a dispatch level; use ref, avx2, avx512 or auto",
                     forced);
            return;
        }
        if (isa > cpu->best_isa) {
            init_status = GABA_ERR_ISA;
            snprintf(init_error, sizeof init_error, "GABA_ISA=%s: this CPU supports at most '%s'",
                     gaba_isa_name(isa), gaba_isa_name(cpu->best_isa));
            return;
        }
    }
    active_isa = isa;
    for (size_t i = 0; i < sizeof family_tables / sizeof family_tables[0]; i++)
        family_tables[i](isa);
}

gaba_status gaba_runtime_init(void) {
    pthread_once(&init_once, runtime_init_once);
    return init_status;
}

const char *gaba_runtime_error(void) { return init_error; }

gaba_isa gaba_isa_active(void) { return active_isa; }

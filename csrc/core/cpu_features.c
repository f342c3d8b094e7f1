// cpu_features.c - probes the CPU once with cpuid and checks, with xgetbv,
// that the OS saves the register state each feature needs (YMM for AVX/AVX2,
// ZMM + opmask for AVX-512): a feature the OS does not enable is reported
// absent. Mirrors ggml's cpu-feats and BLIS's bli_cpuid. It does not look at
// cache sizes (gemm reads those itself) and has nothing to say about non-x86
// CPUs beyond "ref".
#include "gaba/gaba.h"

#include <string.h>
#include <pthread.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void probe(gaba_cpu_info *info) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(info->vendor + 0, &b, 4);
    memcpy(info->vendor + 4, &d, 4);
    memcpy(info->vendor + 8, &c, 4);
    info->vendor[12] = '\0';

    __get_cpuid(1, &a, &b, &c, &d);
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    info->family = (int)(base_family + (base_family == 0xf ? (a >> 20) & 0xff : 0));
    info->model = (int)(base_model | ((base_family >= 0x6 ? (a >> 16) & 0xf : 0) << 4));
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int os_ymm = (xcr0 & 0x6) == 0x6;   // SSE + AVX state
    int os_zmm = (xcr0 & 0xe6) == 0xe6; // + opmask, ZMM_Hi256, Hi16_ZMM
    info->sse42 = (c >> 20) & 1;
    info->avx = os_ymm && ((c >> 28) & 1);
    info->fma = os_ymm && ((c >> 12) & 1);
    info->f16c = os_ymm && ((c >> 29) & 1);

    if (max_leaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        info->avx2 = os_ymm && ((b >> 5) & 1);
        info->avx512f = os_zmm && ((b >> 16) & 1);
        info->avx512dq = os_zmm && ((b >> 17) & 1);
        info->avx512bw = os_zmm && ((b >> 30) & 1);
        info->avx512vl = os_zmm && ((b >> 31) & 1);
        info->avx512vbmi = os_zmm && ((c >> 1) & 1);
        info->avx512vnni = os_zmm && ((c >> 11) & 1);
        unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
        __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
        info->avxvnni = os_ymm && ((a1 >> 4) & 1);
        info->avx512bf16 = os_zmm && ((a1 >> 5) & 1);
    }

    unsigned ext_max = __get_cpuid_max(0x80000000u, NULL);
    if (ext_max >= 0x80000004u) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                        &regs[4 * i + 3]);
        memcpy(info->brand, regs, 48);
        info->brand[48] = '\0';
        // Trim the padding some vendors put around the brand string.
        size_t len = strlen(info->brand);
        while (len > 0 && info->brand[len - 1] == ' ') info->brand[--len] = '\0';
        size_t lead = strspn(info->brand, " ");
        memmove(info->brand, info->brand + lead, len - lead + 1);
    }
}
#else
static void probe(gaba_cpu_info *info) { (void)info; }
#endif

static gaba_cpu_info cpu_info;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void probe_once(void) {
    memset(&cpu_info, 0, sizeof cpu_info);
    probe(&cpu_info);
    const gaba_cpu_info *f = &cpu_info;
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq && f->avx2 && f->fma)
        cpu_info.best_isa = GABA_ISA_AVX512;
    else if (f->avx2 && f->fma)
        cpu_info.best_isa = GABA_ISA_AVX2;
    else
        cpu_info.best_isa = GABA_ISA_REF;
}

const gaba_cpu_info *gaba_cpu(void) {
    pthread_once(&cpu_once, probe_once);
    return &cpu_info;
}

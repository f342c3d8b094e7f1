// gemm_s8.c - the int8 GEMM driver (C = A @ B in int32, exact) and the
// requantization helpers the quantized layers use after it.
//
// Blocking as in gemm_native.c (KC x NC panels of B, MC x KC blocks of A,
// register tiles from the per-ISA kernels), over a VNNI-style packed
// layout: k in groups of 4 bytes, zero-padded. The kernels multiply
// unsigned A by signed B (vpdpbusd); a signed A is packed as A + 128 (a
// flip of the sign bit) and the driver adds -128 * sum_k B[k, j] to every
// row, so both signednesses share one kernel. Arithmetic wraps modulo 2^32,
// which makes every result exact whenever the true value fits in int32.
// Like the float driver, it polls for an interrupt once per block of rows.
// Requantization follows TFLite's reference ops bit for bit.
#define _GNU_SOURCE
#include "gemm_s8_kernels.h"
#include "gemm_kernels.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

gaba_gemm_s8_kernels gaba_gemm_s8_table = {gaba_gemm_s8_ukr_ref, 4, 8, "ref"};

void gaba_gemm_s8_dispatch_init(gaba_isa isa) {
    const gaba_cpu_info *cpu = gaba_cpu();
    gaba_gemm_s8_kernels t = {gaba_gemm_s8_ukr_ref, 4, 8, "ref"};
    if (isa >= GABA_ISA_AVX2) t = (gaba_gemm_s8_kernels){gaba_gemm_s8_ukr_avx2, 6, 16, "avx2"};
    if (isa >= GABA_ISA_AVX2 && cpu->avxvnni)
        t = (gaba_gemm_s8_kernels){gaba_gemm_s8_ukr_avxvnni, 6, 16, "avxvnni"};
    if (isa >= GABA_ISA_AVX512 && cpu->avx512vnni)
        t = (gaba_gemm_s8_kernels){gaba_gemm_s8_ukr_avx512vnni, 12, 32, "avx512vnni"};
    gaba_gemm_s8_table = t;
}

const char *gaba_gemm_s8_kernel_name(void) { return gaba_gemm_s8_table.name; }

gaba_status gaba_gemm_s8_use_kernel(const char *name) {
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return status;
    const gaba_cpu_info *cpu = gaba_cpu();
    static const gaba_gemm_s8_kernels all[] = {
        {gaba_gemm_s8_ukr_ref, 4, 8, "ref"},
        {gaba_gemm_s8_ukr_avx2, 6, 16, "avx2"},
        {gaba_gemm_s8_ukr_avxvnni, 6, 16, "avxvnni"},
        {gaba_gemm_s8_ukr_avx512vnni, 12, 32, "avx512vnni"},
    };
    const int usable[] = {1, cpu->avx2 && cpu->fma, cpu->avxvnni && cpu->avx2,
                          cpu->avx512vnni && cpu->avx512bw && cpu->avx512f};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, all[i].name) == 0) {
            if (!usable[i]) return GABA_ERR_ISA;
            gaba_gemm_s8_table = all[i];
            return GABA_OK;
        }
    return GABA_ERR_ARG;
}

// k steps per block (a multiple of 4): a 512 x 32-byte sliver of B is 16 KB
// of L1; MC rows x 512 of A stay in L2.
#define KC 512
#define MC 480
#define NC 4096

static _Thread_local unsigned char *scratch_buf;
static _Thread_local size_t scratch_bytes;

static unsigned char *scratch(size_t bytes) {
    if (bytes > scratch_bytes) {
        gaba_aligned_free(scratch_buf);
        scratch_buf = gaba_aligned_alloc(bytes);
        scratch_bytes = scratch_buf ? bytes : 0;
    }
    return scratch_buf;
}

typedef struct s8_problem {
    int64_t m, n, k;
    const uint8_t *a; // bytes of A; flip = 0x80 when they are int8
    uint8_t flip;
    int64_t rs_a, cs_a;
    const int8_t *b;
    int64_t rs_b, cs_b;
    int32_t *c;
    int64_t rs_c, cs_c;
} s8_problem;

static void pack_a(int64_t mc, int64_t kc, const uint8_t *a, int64_t rs_a, int64_t cs_a,
                   uint8_t flip, int mr_t, uint8_t *dst) {
    int64_t kg = (kc + 3) / 4;
    const uint32_t flip4 = flip * 0x01010101u;
    for (int64_t ir = 0; ir < mc; ir += mr_t, dst += (size_t)kg * mr_t * 4) {
        int64_t mr = mc - ir < mr_t ? mc - ir : mr_t;
        if (cs_a == 1 && mr == mr_t && kc % 4 == 0) {
            // Row-major A: each group is 4 contiguous bytes, one 32-bit move.
            for (int64_t i = 0; i < mr_t; i++) {
                const uint8_t *row = a + (ir + i) * rs_a;
                for (int64_t g = 0; g < kg; g++) {
                    uint32_t v;
                    memcpy(&v, row + 4 * g, 4);
                    v ^= flip4;
                    memcpy(dst + (g * mr_t + i) * 4, &v, 4);
                }
            }
            continue;
        }
        for (int64_t i = 0; i < mr_t; i++)
            for (int64_t p = 0; p < 4 * kg; p++)
                dst[((p / 4) * mr_t + i) * 4 + p % 4] =
                    i < mr && p < kc ? (uint8_t)(a[(ir + i) * rs_a + p * cs_a] ^ flip) : 0;
    }
}

static void pack_b(int64_t kc, int64_t nc, const int8_t *b, int64_t rs_b, int64_t cs_b, int nr_t,
                   int8_t *dst) {
    int64_t kg = (kc + 3) / 4;
    for (int64_t jr = 0; jr < nc; jr += nr_t, dst += (size_t)kg * nr_t * 4) {
        int64_t nr = nc - jr < nr_t ? nc - jr : nr_t;
        if (cs_b == 1 && nr == nr_t && kc % 4 == 0) {
            // Row-major B: interleave 4 rows byte by byte (no branches, so
            // the compiler vectorizes it).
            for (int64_t g = 0; g < kg; g++) {
                const int8_t *r0 = b + 4 * g * rs_b + jr, *r1 = r0 + rs_b, *r2 = r1 + rs_b,
                             *r3 = r2 + rs_b;
                int8_t *d = dst + g * nr_t * 4;
                for (int64_t j = 0; j < nr_t; j++) {
                    d[4 * j] = r0[j];
                    d[4 * j + 1] = r1[j];
                    d[4 * j + 2] = r2[j];
                    d[4 * j + 3] = r3[j];
                }
            }
            continue;
        }
        for (int64_t g = 0; g < kg; g++)
            for (int64_t j = 0; j < nr_t; j++)
                for (int q = 0; q < 4; q++) {
                    int64_t p = 4 * g + q;
                    dst[(g * nr_t + j) * 4 + q] =
                        j < nr && p < kc ? b[p * rs_b + (jr + j) * cs_b] : 0;
                }
    }
}

// `shared` is the status of a parallel product's job (NULL on one thread).
static gaba_status s8_blocked(const s8_problem *p, atomic_int *shared) {
    const gaba_gemm_s8_kernels *kt = &gaba_gemm_s8_table;
    const int mr_t = kt->mr, nr_t = kt->nr;
    int64_t kc_max = p->k < KC ? (p->k + 3) / 4 * 4 : KC;
    int64_t mc_max = p->m < MC ? (p->m + mr_t - 1) / mr_t * mr_t : MC;
    int64_t nc_max = p->n < NC ? (p->n + nr_t - 1) / nr_t * nr_t : NC;
    size_t a_bytes = ((size_t)(mc_max * kc_max) + 63) / 64 * 64;
    size_t b_bytes = ((size_t)(nc_max * kc_max) + 63) / 64 * 64;
    unsigned char *buf = scratch(a_bytes + b_bytes + (size_t)nc_max * sizeof(int32_t));
    if (!buf) return GABA_ERR_NOMEM;
    uint8_t *apack = buf;
    int8_t *bpack = (int8_t *)(buf + a_bytes);
    int32_t *col_add = (int32_t *)(buf + a_bytes + b_bytes);
    for (int64_t jc = 0; jc < p->n; jc += NC) {
        int64_t nc = p->n - jc < NC ? p->n - jc : NC;
        if (p->flip) {
            // (a + 128) b summed over k, minus 128 * sum_k b: wrapping int32.
            for (int64_t j = 0; j < nc; j++) {
                uint32_t sum = 0;
                for (int64_t q = 0; q < p->k; q++)
                    sum += (uint32_t)(int32_t)p->b[q * p->rs_b + (jc + j) * p->cs_b];
                col_add[j] = (int32_t)(0u - 128u * sum);
            }
        }
        for (int64_t pc = 0; pc < p->k; pc += KC) {
            int64_t kc = p->k - pc < KC ? p->k - pc : KC, kg = (kc + 3) / 4;
            pack_b(kc, nc, p->b + pc * p->rs_b + jc * p->cs_b, p->rs_b, p->cs_b, nr_t, bpack);
            for (int64_t ic = 0; ic < p->m; ic += MC) {
                gaba_status status = gaba_gemm_next_block(shared);
                if (status != GABA_OK) return status;
                int64_t mc = p->m - ic < MC ? p->m - ic : MC;
                pack_a(mc, kc, p->a + ic * p->rs_a + pc * p->cs_a, p->rs_a, p->cs_a, p->flip, mr_t,
                       apack);
                for (int64_t jr = 0; jr < nc; jr += nr_t) {
                    int64_t nr = nc - jr < nr_t ? nc - jr : nr_t;
                    const int32_t *add = p->flip && pc == 0 ? col_add + jr : NULL;
                    for (int64_t ir = 0; ir < mc; ir += mr_t) {
                        int64_t mr = mc - ir < mr_t ? mc - ir : mr_t;
                        kt->ukr(kg, apack + ir * kg * 4, bpack + jr * kg * 4,
                                p->c + (ic + ir) * p->rs_c + (jc + jr) * p->cs_c, p->rs_c, p->cs_c,
                                mr, nr, add, pc > 0);
                    }
                }
            }
        }
    }
    return GABA_OK;
}

typedef struct s8_job {
    s8_problem p;
    int split_m;
    int64_t step;
    atomic_int status;
} s8_job;

static void s8_task(void *ctx, int64_t task, int64_t n_tasks) {
    s8_job *job = ctx;
    int64_t total = job->split_m ? job->p.m : job->p.n, lo = task * job->step;
    if (lo >= total) return;
    int64_t len = total - lo < job->step ? total - lo : job->step;
    s8_problem s = job->p;
    if (job->split_m) {
        s.m = len;
        s.a += lo * s.rs_a;
        s.c += lo * s.rs_c;
    } else {
        s.n = len;
        s.b += lo * s.cs_b;
        s.c += lo * s.cs_c;
    }
    gaba_status st = s8_blocked(&s, &job->status);
    if (st != GABA_OK) atomic_store(&job->status, st);
}

// int8 runs about 4x the float32 rate, so the float threshold (about 60 us
// of work on one core) is 4x as many multiply-adds here.
#define S8_PARALLEL_MACS (48.0 * 1024 * 1024)

static gaba_status gemm_s8(s8_problem *p) {
    if (p->m < 0 || p->n < 0 || p->k < 0) return GABA_ERR_SHAPE;
    if (p->m == 0 || p->n == 0) return GABA_OK;
    if (!p->c || (p->k > 0 && (!p->a || !p->b))) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return status;
    if (p->k == 0) {
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j = 0; j < p->n; j++) p->c[i * p->rs_c + j * p->cs_c] = 0;
        return GABA_OK;
    }
    int threads = gaba_threads_get();
    if (threads <= 1 || (double)p->m * (double)p->n * (double)p->k < S8_PARALLEL_MACS)
        return s8_blocked(p, NULL);
    s8_job job = {.p = *p};
    atomic_init(&job.status, GABA_OK);
    int64_t mr = gaba_gemm_s8_table.mr, nr = gaba_gemm_s8_table.nr;
    job.split_m = p->m >= (int64_t)threads * 4 * mr || p->m >= p->n;
    int64_t total = job.split_m ? p->m : p->n, unit = job.split_m ? mr : nr;
    job.step = ((total + threads - 1) / threads + unit - 1) / unit * unit;
    gaba_parallel_for(threads, threads, s8_task, &job);
    return (gaba_status)atomic_load(&job.status);
}

gaba_status gaba_gemm_u8s8s32(int64_t m, int64_t n, int64_t k, const uint8_t *a, int64_t rs_a,
                              int64_t cs_a, const int8_t *b, int64_t rs_b, int64_t cs_b, int32_t *c,
                              int64_t rs_c, int64_t cs_c) {
    s8_problem p = {m, n, k, a, 0, rs_a, cs_a, b, rs_b, cs_b, c, rs_c, cs_c};
    return gemm_s8(&p);
}

gaba_status gaba_gemm_s8s8s32(int64_t m, int64_t n, int64_t k, const int8_t *a, int64_t rs_a,
                              int64_t cs_a, const int8_t *b, int64_t rs_b, int64_t cs_b, int32_t *c,
                              int64_t rs_c, int64_t cs_c) {
    s8_problem p = {m, n, k, (const uint8_t *)a, 0x80, rs_a, cs_a, b, rs_b, cs_b, c, rs_c, cs_c};
    return gemm_s8(&p);
}

// ---- requantization (TFLite reference semantics) ---------------------------------

gaba_status gaba_gemm_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift) {
    if (!multiplier || !shift || !(real >= 0.0) || isinf(real)) return GABA_ERR_ARG;
    if (real == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return GABA_OK;
    }
    int exponent;
    double q = frexp(real, &exponent); // real = q * 2^exponent, q in [0.5, 1)
    int64_t fixed = llround(q * (double)(1LL << 31));
    if (fixed == (1LL << 31)) {
        fixed /= 2;
        exponent++;
    }
    if (exponent < -31) { // too small to represent: rounds to zero
        exponent = 0;
        fixed = 0;
    }
    if (exponent > 30) { // saturate, as TFLite does
        exponent = 30;
        fixed = (1LL << 31) - 1;
    }
    *multiplier = (int32_t)fixed;
    *shift = exponent;
    return GABA_OK;
}

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31).
static int32_t high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
    return (int32_t)((ab + nudge) / (1LL << 31)); // truncates toward zero, as gemmlowp
}

// gemmlowp's RoundingDivideByPOT: x / 2^exponent, rounding half away from 0.
static int32_t divide_pot(int32_t x, int exponent) {
    int32_t mask = (int32_t)((1LL << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t gaba_gemm_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    // Wrapping shift (TFLite leaves overflow undefined; here it is defined).
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return divide_pot(high_mul(shifted, multiplier), right);
}

gaba_status gaba_gemm_requantize_s32_s8(int64_t m, int64_t n, const int32_t *acc, int64_t rs_acc,
                                        int64_t cs_acc, const int32_t *bias,
                                        const int32_t *multiplier, const int32_t *shift,
                                        int per_channel, int32_t zero_point, int32_t act_min,
                                        int32_t act_max, int8_t *out, int64_t rs_out,
                                        int64_t cs_out) {
    if (m < 0 || n < 0) return GABA_ERR_SHAPE;
    if (m == 0 || n == 0) return GABA_OK;
    if (!acc || !out || !multiplier || !shift) return GABA_ERR_ARG;
    if (act_min < -128 || act_max > 127 || act_min > act_max) return GABA_ERR_ARG;
    for (int64_t j = 0; j < (per_channel ? n : 1); j++)
        if (shift[j] > 31 || shift[j] < -31 || multiplier[j] < 0) return GABA_ERR_ARG;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            int64_t q = per_channel ? j : 0;
            int32_t x = acc[i * rs_acc + j * cs_acc];
            if (bias) x = (int32_t)((uint32_t)x + (uint32_t)bias[j]);
            int64_t v =
                (int64_t)gaba_gemm_multiply_by_quantized_multiplier(x, multiplier[q], shift[q]) +
                zero_point;
            v = v < act_min ? act_min : v > act_max ? act_max : v;
            out[i * rs_out + j * cs_out] = (int8_t)v;
        }
    return GABA_OK;
}

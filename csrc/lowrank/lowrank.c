// lowrank.c - the low-rank family's entry points: singular values, the
// exact truncated SVD (LAPACK on A^T, which is A's row-major memory read as
// column-major, so no transpose is needed), the randomized SVD of Halko,
// Martinsson & Tropp (2011, Alg. 4.4 with the LU renormalisation that
// scikit-learn's randomized_svd uses) on gaba_gemm_f32, and the sqrt(S)
// split. It does not pick the rank or the method: gaba/lowrank.py does.
#include "lowrank_internal.h"
#include "gaba/gemm.h"

#include <float.h>
#include <math.h>
#include <string.h>

static gaba_status check(int64_t m, int64_t n, const float *a) {
    if (m < 0 || n < 0) return GABA_ERR_SHAPE;
    if (m > 0 && n > 0 && !a) return GABA_ERR_ARG;
    return gaba_runtime_init();
}

gaba_status gaba_lowrank_singular_values_f32(int64_t m, int64_t n, const float *a, int64_t rs_a,
                                             int64_t cs_a, float *s) {
    gaba_status status = check(m, n, a);
    if (status != GABA_OK || m == 0 || n == 0) return status;
    if (!s) return GABA_ERR_ARG;
    // NaN/Inf make LAPACK's iterations diverge (or spin): refuse them up front.
    if (!(gaba_lowrank_max_abs(m, n, a, rs_a, cs_a) <= FLT_MAX)) return GABA_ERR_NUMERIC;
    return gaba_lowrank_lapack_svd(n, m, a, cs_a, rs_a, s, NULL, NULL);
}

// Writes the first r components, U(i, j) = u_src[i * u_rs + j * u_cs] and
// Vt(j, c) = vt_src[j * vt_rs + c * vt_cs], to dense row-major u and vt,
// each component's sign flipped so that U's entry of largest magnitude
// (the first on ties) is positive.
static void emit(int64_t m, int64_t n, int64_t r, const float *u_src, int64_t u_rs, int64_t u_cs,
                 const float *s_src, const float *vt_src, int64_t vt_rs, int64_t vt_cs, float *u,
                 float *s, float *vt) {
    for (int64_t j = 0; j < r; j++) {
        int64_t best = 0;
        float best_abs = -1.0f;
        for (int64_t i = 0; i < m; i++) {
            float v = fabsf(u_src[i * u_rs + j * u_cs]);
            if (v > best_abs) {
                best_abs = v;
                best = i;
            }
        }
        float sign = u_src[best * u_rs + j * u_cs] < 0.0f ? -1.0f : 1.0f;
        for (int64_t i = 0; i < m; i++) u[i * r + j] = sign * u_src[i * u_rs + j * u_cs];
        for (int64_t c = 0; c < n; c++) vt[j * n + c] = sign * vt_src[j * vt_rs + c * vt_cs];
        if (s) s[j] = s_src[j];
    }
}

static gaba_status svd_exact(int64_t m, int64_t n, int64_t r, const float *a, int64_t rs_a,
                             int64_t cs_a, float *u, float *s, float *vt) {
    int64_t k = m < n ? m : n;
    // LAPACK factors X = A^T (n, m): X = Ux S VTx gives A = VTx^T S Ux^T, and
    // VTx (k, m) column-major is U (m, k) row-major; Ux (n, k) column-major
    // is Vt (k, n) row-major.
    float *sv = gaba_aligned_alloc((size_t)k * sizeof(float));
    float *ux = gaba_aligned_alloc((size_t)(n * k) * sizeof(float));
    float *vtx = gaba_aligned_alloc((size_t)(k * m) * sizeof(float));
    gaba_status status = GABA_ERR_NOMEM;
    if (sv && ux && vtx) status = gaba_lowrank_lapack_svd(n, m, a, cs_a, rs_a, sv, ux, vtx);
    if (status == GABA_OK) emit(m, n, r, vtx, k, 1, sv, ux, n, 1, u, s, vt);
    gaba_aligned_free(sv);
    gaba_aligned_free(ux);
    gaba_aligned_free(vtx);
    return status;
}

static gaba_status normalize(gaba_lowrank_normalizer how, int64_t rows, int64_t cols, float *x) {
    switch (how) {
    case GABA_LOWRANK_NORM_LU: return gaba_lowrank_lapack_lu(rows, cols, x);
    case GABA_LOWRANK_NORM_QR: return gaba_lowrank_lapack_qr(rows, cols, x);
    case GABA_LOWRANK_NORM_NONE: return GABA_OK;
    }
    return GABA_ERR_ARG;
}

// x[i] *= 2^e for i < count: exact, barring underflow to subnormals.
static void scale_pow2(int64_t count, float *x, int e) {
    while (e != 0) {
        int step = e > 127 ? 127 : e < -126 ? -126 : e;
        float f = ldexpf(1.0f, step);
        for (int64_t i = 0; i < count; i++) x[i] *= f;
        e -= step;
    }
}

// Scales the panel x (count floats) by a power of two so that its largest
// magnitude is near 1, but no more than lets a product with A (largest
// magnitude amax) over `inner` terms stay below FLT_MAX / 4. Plain power
// iterations would overflow or underflow otherwise, and an A near FLT_MAX
// overflows the products of even a renormalised panel (sgesdd scales such an
// A itself; this is the randomized method's equivalent). Returns e, the
// panel having been multiplied by 2^e; the range it spans is unchanged.
static int fit_panel(int64_t count, float *x, float amax, int64_t inner) {
    float xmax = 0.0f;
    for (int64_t i = 0; i < count; i++) xmax = fmaxf(xmax, fabsf(x[i]));
    if (xmax == 0.0f || !(xmax <= FLT_MAX)) return 0;
    int ex, el;
    frexpf(xmax, &ex); // xmax < 2^ex
    int e = -ex;
    if (amax > 0.0f) {
        frexp((double)FLT_MAX / 4.0 / ((double)amax * (double)inner), &el); // limit >= 2^(el-1)
        if (e > el - 1 - ex) e = el - 1 - ex;
    }
    scale_pow2(count, x, e);
    return e;
}

#define GEMM(mm, nn, kk, a_, rsa, csa, b_, rsb, csb, c_, rsc, csc)                                 \
    gaba_gemm_f32(GABA_GEMM_AUTO, mm, nn, kk, 1.0f, a_, rsa, csa, b_, rsb, csb, 0.0f, c_, rsc,     \
                  csc, NULL, GABA_ACT_NONE)

static gaba_status svd_randomized(const gaba_lowrank_options *opt, int64_t m, int64_t n, int64_t r,
                                  const float *a, int64_t rs_a, int64_t cs_a, float amax, float *u,
                                  float *s, float *vt) {
    int64_t k = m < n ? m : n;
    int64_t l = r + opt->oversample;
    if (l > k) l = k;
    // Column-major panels: Y (m, l), Z and Omega (n, l), B = Q^T A (l, n),
    // Ub (l, l), Vtb (l, n), U = Q Ub (m, r).
    float *y = gaba_aligned_alloc((size_t)(m * l) * sizeof(float));
    float *z = gaba_aligned_alloc((size_t)(n * l) * sizeof(float));
    float *b = gaba_aligned_alloc((size_t)(l * n) * sizeof(float));
    float *ub = gaba_aligned_alloc((size_t)(l * l) * sizeof(float));
    float *vtb = gaba_aligned_alloc((size_t)(l * n) * sizeof(float));
    float *sb = gaba_aligned_alloc((size_t)l * sizeof(float));
    float *uq = gaba_aligned_alloc((size_t)(m * r) * sizeof(float));
    gaba_status status = GABA_ERR_NOMEM;
    if (!y || !z || !b || !ub || !vtb || !sb || !uq) goto done;

    gaba_rng rng;
    gaba_rng_seed(&rng, opt->seed, 0x6c6f7772616e6bULL); // stream "lowrank"
    gaba_rng_fill_normal(&rng, z, n * l, 1.0f);
    fit_panel(n * l, z, amax, n);
    if ((status = GEMM(m, l, n, a, rs_a, cs_a, z, 1, n, y, 1, m)) != GABA_OK) goto done;
    for (int64_t it = 0; it < opt->n_iter; it++) {
        if (gaba_interrupt_poll()) {
            status = GABA_ERR_INTERRUPTED;
            goto done;
        }
        if ((status = normalize(opt->normalizer, m, l, y)) != GABA_OK) goto done;
        fit_panel(m * l, y, amax, m);
        if ((status = GEMM(n, l, m, a, cs_a, rs_a, y, 1, m, z, 1, n)) != GABA_OK) goto done;
        if ((status = normalize(opt->normalizer, n, l, z)) != GABA_OK) goto done;
        fit_panel(n * l, z, amax, n);
        if ((status = GEMM(m, l, n, a, rs_a, cs_a, z, 1, n, y, 1, m)) != GABA_OK) goto done;
    }
    if ((status = gaba_lowrank_lapack_qr(m, l, y)) != GABA_OK) goto done;
    // B = Q^T A carries Q's scale 2^e into its singular values: taken out
    // of them, and of U = Q Ub, once they are back in range.
    int e = fit_panel(m * l, y, amax, m);
    if ((status = GEMM(l, n, m, y, m, 1, a, rs_a, cs_a, b, 1, l)) != GABA_OK) goto done;
    if ((status = gaba_lowrank_lapack_svd(l, n, b, 1, l, sb, ub, vtb)) != GABA_OK) goto done;
    if ((status = GEMM(m, r, l, y, 1, m, ub, 1, l, uq, 1, m)) != GABA_OK) goto done;
    scale_pow2(l, sb, -e);
    scale_pow2(m * r, uq, -e);
    emit(m, n, r, uq, 1, m, sb, vtb, 1, l, u, s, vt);
done:
    gaba_aligned_free(y);
    gaba_aligned_free(z);
    gaba_aligned_free(b);
    gaba_aligned_free(ub);
    gaba_aligned_free(vtb);
    gaba_aligned_free(sb);
    gaba_aligned_free(uq);
    return status;
}

gaba_status gaba_lowrank_svd_f32(const gaba_lowrank_options *options, int64_t m, int64_t n,
                                 int64_t r, const float *a, int64_t rs_a, int64_t cs_a, float *u,
                                 float *s, float *vt) {
    gaba_status status = check(m, n, a);
    if (status != GABA_OK) return status;
    int64_t k = m < n ? m : n;
    if (!options || r < 0 || r > k || options->oversample < 0 ||
        options->oversample > GABA_LOWRANK_MAX_OVERSAMPLE || options->n_iter < 0 ||
        options->n_iter > GABA_LOWRANK_MAX_N_ITER)
        return GABA_ERR_ARG;
    if (r == 0) return GABA_OK;
    if (!u || !vt) return GABA_ERR_ARG;
    float amax = gaba_lowrank_max_abs(m, n, a, rs_a, cs_a);
    if (!(amax <= FLT_MAX)) return GABA_ERR_NUMERIC;
    switch (options->method) {
    case GABA_LOWRANK_EXACT: return svd_exact(m, n, r, a, rs_a, cs_a, u, s, vt);
    case GABA_LOWRANK_RANDOMIZED:
        return svd_randomized(options, m, n, r, a, rs_a, cs_a, amax, u, s, vt);
    }
    return GABA_ERR_ARG;
}

gaba_status gaba_lowrank_factorize_f32(const gaba_lowrank_options *options, int64_t m, int64_t n,
                                       int64_t r, const float *a, int64_t rs_a, int64_t cs_a,
                                       float *u, float *v, float *s) {
    float *sv = r > 0 ? gaba_aligned_alloc((size_t)r * sizeof(float)) : NULL;
    if (r > 0 && !sv) return GABA_ERR_NOMEM;
    gaba_status status = gaba_lowrank_svd_f32(options, m, n, r, a, rs_a, cs_a, u, sv, v);
    if (status == GABA_OK) {
        for (int64_t j = 0; j < r; j++) {
            float root = sqrtf(sv[j]);
            for (int64_t i = 0; i < m; i++) u[i * r + j] *= root;
            for (int64_t c = 0; c < n; c++) v[j * n + c] *= root;
            if (s) s[j] = sv[j];
        }
    }
    gaba_aligned_free(sv);
    return status;
}

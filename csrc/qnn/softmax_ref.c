// softmax_ref.c - TFLite's int8 softmax (docs/int8.md, "Softmax"): gemmlowp's
// fixed-point exp of each scaled difference to the row's max, their sum with
// 12 integer bits, its Newton-Raphson reciprocal, each output a product and a
// rounding shift. Every element from the fixed-point routines directly: the
// oracle of softmax.c, which takes the exp values from a table these routines fill.
#include "qnn_kernels.h"

static int32_t wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

// x * 2^e (e 1..31) saturated to int32: gemmlowp's SaturatingRoundingMultiplyByPOT, e > 0.
static int32_t sat_shl(int32_t x, int e) {
    const int32_t lim = (int32_t)((1u << (31 - e)) - 1);
    return x > lim ? INT32_MAX : x < -lim ? INT32_MIN : (int32_t)((uint32_t)x << e);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: the Taylor series around -1/8.
static int32_t exp_quarter(int32_t a) {
    const int32_t c = 1895147668, third = 715827883; // exp(-1/8), 1/3
    const int32_t x = wadd(a, 1 << 28);
    const int32_t x2 = gaba_qnn_srdhm(x, x), x3 = gaba_qnn_srdhm(x2, x);
    const int32_t x4_4 = gaba_qnn_rdbp(gaba_qnn_srdhm(x2, x2), 2);
    const int32_t t = gaba_qnn_rdbp(wadd(gaba_qnn_srdhm(wadd(x4_4, x3), third), x2), 1);
    return wadd(c, gaba_qnn_srdhm(c, wadd(x, t)));
}

// exp(a) for a Q5.26 a <= 0, Q0.31: exp of a mod 1/4 (minus 1/4), times exp(-2^k) for
// each bit k of the rest (gemmlowp's exp_on_negative_values).
static int32_t exp_negative(int32_t a) {
    static const int32_t mul[7] = {1672461947, 1302514674, 790015084, 290630308,
                                   39332535,   720401,     242}; // exp(-2^k), k = -2..4
    const int32_t quarter = 1 << 24;
    const int32_t amod = wsub(a & (quarter - 1), quarter);
    int32_t r = exp_quarter(sat_shl(amod, 5));
    const int32_t rest = wsub(amod, a);
    for (int k = 0; k < 7; k++)
        if (rest & (1 << (24 + k))) r = gaba_qnn_srdhm(r, mul[k]);
    return a == 0 ? INT32_MAX : r;
}

int32_t gaba_qnn_softmax_exp(int32_t diff, int32_t mult, int32_t shift) {
    return exp_negative(gaba_qnn_srdhm((int32_t)((uint32_t)diff << shift), mult));
}

int32_t gaba_qnn_softmax_diff_min(int32_t shift) { return -((31 << 26) >> shift); }

// 1 / (1 + a) for a Q0.31 a in [0, 1), Q0.31: three Newton-Raphson steps in Q2.29
// from 48/17 - 32/17 d, d = (1 + a) / 2 (gemmlowp's one_over_one_plus_x_for_x_in_0_1).
static int32_t one_over_one_plus(int32_t a) {
    const int64_t s = (int64_t)a + INT32_MAX;
    const int32_t d = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = wadd(1515870810, gaba_qnn_srdhm(d, -1010580540));
    for (int i = 0; i < 3; i++) {
        const int32_t err = wsub(1 << 29, gaba_qnn_srdhm(d, x));
        x = wadd(x, sat_shl(gaba_qnn_srdhm(x, err), 2));
    }
    return sat_shl(x, 1);
}

int32_t gaba_qnn_softmax_recip(int64_t sum, int *exponent) {
    *exponent = 31;
    if (sum >= GABA_QNN_SOFTMAX_SUM_MAX) return 0; // every output then -128
    int lead = 0;                                  // sum in [2^19, 2^28): 4..12 leading zeros
    while (!(((uint32_t)sum << lead) & 0x80000000u)) lead++;
    *exponent = 12 - lead + 31 - 8;
    return one_over_one_plus((int32_t)(((uint32_t)sum << lead) - 0x80000000u));
}

void gaba_qnn_softmax_rows_ref(int64_t rows, int64_t n, const gaba_qnn_layer *q, const int8_t *x,
                               int8_t *y) {
    const int32_t mult = q->q_mult[0], shift = q->q_shift[0];
    const int32_t diff_min = gaba_qnn_softmax_diff_min(shift);
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * n;
        const int32_t mx = gaba_qnn_max_s8(n, xr);
        int64_t sum = 0;
        for (int64_t i = 0; i < n; i++)
            if (xr[i] - mx >= diff_min)
                sum += gaba_qnn_rdbp(gaba_qnn_softmax_exp(xr[i] - mx, mult, shift), 12);
        int exponent;
        const int32_t recip = gaba_qnn_softmax_recip(sum, &exponent);
        for (int64_t i = 0; i < n; i++) {
            const int32_t d = xr[i] - mx;
            const int32_t e = d >= diff_min ? gaba_qnn_softmax_exp(d, mult, shift) : 0;
            y[r * n + i] = d >= diff_min ? gaba_qnn_softmax_out(recip, e, exponent) : -128;
        }
    }
}

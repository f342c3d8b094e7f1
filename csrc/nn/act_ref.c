// act_ref.c - the float32 activations in place (ReLU, ReLU6, sigmoid, tanh,
// hard-swish; libm's expf and tanhf). The oracle of act.c and of the ISA
// table's vector pass (act_avx2.c, act_avx512.c), and the ref level's pass.
#include "nn_kernels.h"

#include <math.h>

static float act1(float v, gaba_nn_act act) {
    switch (act) {
    case GABA_NN_ACT_RELU: return v < 0.0f ? 0.0f : v;
    case GABA_NN_ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case GABA_NN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case GABA_NN_ACT_TANH: return tanhf(v);
    case GABA_NN_ACT_HSWISH: {
        float r = v + 3.0f;
        r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return v * r * (1.0f / 6.0f);
    }
    default: return v;
    }
}

void gaba_nn_act_f32_ref(float *y, int64_t n, gaba_nn_act act) {
    if (act == GABA_NN_ACT_NONE) return;
    for (int64_t i = 0; i < n; i++) y[i] = act1(y[i], act);
}

// The derivative of each activation at x (y = act(x)), as PyTorch's backward
// takes it at the kinks: ReLU' (0) = 0, ReLU6' is 1 on (0, 6) only, hard-swish'
// is x / 3 + 1/2 on (-3, 3). All but hard-swish's read y only (ReLU's x > 0 is
// y > 0; ReLU6's 0 < x < 6 is 0 < y < 6), so training keeps x only for hard-swish.
static float act1_grad(const float *x, float y, gaba_nn_act act) {
    switch (act) {
    case GABA_NN_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case GABA_NN_ACT_RELU6: return y > 0.0f && y < 6.0f ? 1.0f : 0.0f;
    case GABA_NN_ACT_SIGMOID: return y * (1.0f - y);
    case GABA_NN_ACT_TANH: return 1.0f - y * y;
    case GABA_NN_ACT_HSWISH: return *x <= -3.0f ? 0.0f : (*x >= 3.0f ? 1.0f : *x / 3.0f + 0.5f);
    default: return 1.0f;
    }
}

void gaba_nn_act_backward_f32_ref(const float *x, const float *y, const float *dy, float *dx,
                                  int64_t n, gaba_nn_act act) {
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * act1_grad(x + i, y[i], act);
}

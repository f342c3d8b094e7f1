// emotion_recog_nano.c - EmotionRecogNano: speech emotion recognition on 40
// log-mel bands x 100 frames -> 7 logits. A conv front end halves the
// frame rate, a single-head self-attention block (with a residual, then a
// LayerNorm) relates the 50 frames, a separable conv refines, and global
// pooling feeds a two-layer classifier. The seed's attention layer was declared but unused.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("features", 40, 100)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "features", "s0", 64, 3, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),
    DWCONV1D("dw1", "s", "d1", 64, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool", "b1", "m", 2, 2), // 50
    ATTENTION("attn", "m", "a", 32),
    ADD("attn_res", "m", "a", "r0", NONE),
    LAYER_NORM("attn_ln", "r0", "r"),
    DWCONV1D("dw2", "r", "d2", 64, 3, 1, 1, 1, RELU),
    PWCONV1D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    GAP("gap", "b2", "g"),
    DENSE("fc1", "g", "f1", 64, RELU),
    DENSE("fc2", "f1", "logits", 7, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_emotion_recog_nano, "EmotionRecogNano", "audio", "audio",
               "speech emotion recognition (attention)", 32000);

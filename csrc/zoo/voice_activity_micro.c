// voice_activity_micro.c - VoiceActivityMicro: voice activity detection on
// 40 log-mel bands x 100 frames -> 2 logits (speech / non-speech). A conv
// front end halves the frame rate, a GRU runs over the 50 steps, and its
// last state feeds a dense classifier.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("features", 40, 100)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "features", "s0", 48, 3, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),
    DWCONV1D("dw1", "s", "d1", 48, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 48, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool", "b1", "m", 2, 2), // 50
    DWCONV1D("dw2", "m", "d2", 48, 5, 1, 2, 1, RELU),
    PWCONV1D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    GRU("gru", "b2", "h", 32, 0),
    DENSE("fc", "h", "logits", 2, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_voice_activity_micro, "VoiceActivityMicro", "audio", "audio",
               "voice activity detection", 24000);

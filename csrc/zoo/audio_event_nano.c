// audio_event_nano.c - AudioEventNano: audio event classification on 40 log-
// mel bands x 49 frames -> 15 logits. A 1-D CNN over time: a conv stem,
// depthwise-separable blocks (wider kernels, one strided, one dilated),
// global average pooling over time, dense classifier. Any frame count works.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("features", 40, 49)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "features", "s0", 48, 3, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),
    DWCONV1D("dw1", "s", "d1", 48, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV1D("dw2", "b1", "d2", 64, 5, 2, 2, 1, RELU), // 25 frames
    PWCONV1D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV1D("dw3", "b2", "d3", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", NONE),
    ADD("res3", "b2", "b3", "r3", RELU),
    GAP("gap", "r3", "g"),
    DENSE("fc", "g", "logits", 15, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_audio_event_nano, "AudioEventNano", "audio", "audio",
               "audio event classification", 19000);

// keyword_spot_micro.c - KeywordSpotMicro: wake-word / keyword spotting on
// 40 MFCC x 49 frames -> 10 logits. A 1-D CNN over time: a conv stem, three
// depthwise-separable blocks (depthwise k3 + pointwise, BN folded, ReLU),
// global average pooling, dense head. Any frame count works (GAP).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("mfcc", 40, 49)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "mfcc", "s0", 48, 3, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s1", RELU),
    DWCONV1D("dw1", "s1", "d1", 48, 3, 1, 1, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 48, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV1D("dw2", "b1", "d2", 48, 3, 1, 2, 2, RELU),
    PWCONV1D("pw2", "d2", "p2", 48, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV1D("dw3", "b2", "d3", 48, 3, 1, 4, 4, RELU),
    PWCONV1D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    GAP("gap", "b3", "g"),
    DENSE("fc", "g", "logits", 10, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_keyword_spot_micro, "KeywordSpotMicro", "audio", "audio",
               "keyword spotting (wake word)", 15000);

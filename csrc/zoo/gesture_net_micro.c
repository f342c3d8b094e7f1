// gesture_net_micro.c - GestureNetMicro: gesture recognition from a clip of
// 8 grey 48x48 frames (frames on the channel axis) -> 10 logits. A (2+1)-D
// factorisation: a grouped 3x3 conv sees each frame alone (4 spatial
// filters per frame), a 1x1 conv then mixes across frames (time), followed
// by depthwise-separable blocks, global pooling and a dense classifier.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("frames", 8, 48, 48)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D_X("spatial", "frames", "sp", 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, NONE), // per frame, 24
    BN("spatial_bn", "sp", "spb", RELU),
    PWCONV2D("temporal", "spb", "tp", 32, NONE),
    BN("temporal_bn", "tp", "t", RELU),
    DWCONV2D("dw1", "t", "d1", 32, 3, 2, 1, RELU), // 12
    PWCONV2D("pw1", "d1", "p1", 48, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV2D("dw2", "b1", "d2", 48, 3, 1, 1, RELU),
    PWCONV2D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV2D("dw3", "b2", "d3", 64, 3, 2, 1, RELU), // 6
    PWCONV2D("pw3", "d3", "p3", 96, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    DWCONV2D("dw4", "b3", "d4", 96, 3, 1, 1, RELU),
    PWCONV2D("pw4", "d4", "p4", 128, NONE),
    BN("pw4_bn", "p4", "b4", RELU),
    GAP("gap", "b4", "g"),
    DENSE("fc", "g", "logits", 10, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_gesture_net_micro, "GestureNetMicro", "vision", "vision",
               "gesture recognition (temporal)", 28000);

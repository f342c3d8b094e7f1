// scene_understand_micro.c - SceneUnderstandMicro: multi-task scene
// understanding on 3x96x96 -> 10 scene logits and 10 attribute
// probabilities (multi-label, sigmoid). A shared depthwise-separable
// backbone with global pooling, then a two-layer scene head and a linear
// attribute head.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 96, 96)};
static const char *const outputs[] = {"scenes", "attributes"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "image", "s0", 16, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),                // 48
    DWCONV2D("dw1", "s", "d1", 16, 3, 2, 1, RELU), // 24
    PWCONV2D("pw1", "d1", "p1", 32, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV2D("dw2", "b1", "d2", 32, 3, 1, 1, RELU),
    PWCONV2D("pw2", "d2", "p2", 48, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV2D("dw3", "b2", "d3", 48, 3, 2, 1, RELU), // 12
    PWCONV2D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    DWCONV2D("dw4", "b3", "d4", 64, 3, 1, 1, RELU),
    PWCONV2D("pw4", "d4", "p4", 96, NONE),
    BN("pw4_bn", "p4", "b4", RELU),
    DWCONV2D("dw5", "b4", "d5", 96, 3, 2, 1, RELU), // 6
    PWCONV2D("pw5", "d5", "p5", 128, NONE),
    BN("pw5_bn", "p5", "b5", RELU),
    DWCONV2D("dw6", "b5", "d6", 128, 3, 1, 1, RELU),
    PWCONV2D("pw6", "d6", "p6", 160, NONE),
    BN("pw6_bn", "p6", "b6", RELU),
    GAP("gap", "b6", "g"),
    DENSE("scene_fc", "g", "sh", 64, RELU),
    DENSE("scene_head", "sh", "scenes", 10, NONE),
    DENSE("attribute_head", "g", "attributes", 10, SIGM),
};
GABA_ZOO_MODEL(gaba_zoo_scene_understand_micro, "SceneUnderstandMicro", "vision", "vision",
               "multi-task scene understanding", 64000);

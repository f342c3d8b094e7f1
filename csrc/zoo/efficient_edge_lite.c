// efficient_edge_lite.c - EfficientEdgeLite: image classification on
// 3x128x128 -> 10 logits. A 4x4 stride-4 patch stem, then MobileNetV2-style
// inverted residual blocks (1x1 expand, 3x3 depthwise, linear 1x1 project,
// identity shortcut when shapes match) with hard-swish in the later stages,
// global average pooling and a dense classifier.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 128, 128)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    // 4x4 stride-4 patch stem straight to 32x32: the MACs go to the blocks, not to
    // full-resolution feature maps.
    CONV2D_X("stem", "image", "s0", 24, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s", RELU6),
    DWCONV2D("b1_dw", "s", "b1d", 24, 3, 1, 1, RELU6),
    PWCONV2D("b1_pj", "b1d", "b1p", 24, NONE),
    BN("b1_bn", "b1p", "b1q", NONE),
    ADD("b1_add", "s", "b1q", "x1", NONE),
    PWCONV2D("b2_ex", "x1", "b2e", 72, RELU6),
    DWCONV2D("b2_dw", "b2e", "b2d", 72, 3, 1, 1, RELU6),
    PWCONV2D("b2_pj", "b2d", "b2p", 24, NONE),
    BN("b2_bn", "b2p", "b2q", NONE),
    ADD("b2_add", "x1", "b2q", "x2", NONE),
    PWCONV2D("b3_ex", "x2", "b3e", 96, HSW),
    DWCONV2D("b3_dw", "b3e", "b3d", 96, 3, 2, 1, HSW), // 16
    PWCONV2D("b3_pj", "b3d", "b3p", 40, NONE),
    BN("b3_bn", "b3p", "x3", NONE),
    PWCONV2D("b4_ex", "x3", "b4e", 160, HSW),
    DWCONV2D("b4_dw", "b4e", "b4d", 160, 3, 1, 1, HSW),
    PWCONV2D("b4_pj", "b4d", "b4p", 40, NONE),
    BN("b4_bn", "b4p", "b4q", NONE),
    ADD("b4_add", "x3", "b4q", "x4", NONE),
    PWCONV2D("b5_ex", "x4", "b5e", 160, HSW),
    DWCONV2D("b5_dw", "b5e", "b5d", 160, 3, 2, 1, HSW), // 8
    PWCONV2D("b5_pj", "b5d", "b5p", 64, NONE),
    BN("b5_bn", "b5p", "x5", NONE),
    PWCONV2D("b6_ex", "x5", "b6e", 192, HSW),
    DWCONV2D("b6_dw", "b6e", "b6d", 192, 3, 1, 1, HSW),
    PWCONV2D("b6_pj", "b6d", "b6p", 64, NONE),
    BN("b6_bn", "b6p", "b6q", NONE),
    ADD("b6_add", "x5", "b6q", "x6", NONE),
    PWCONV2D("head", "x6", "hd", 128, NONE),
    BN("head_bn", "hd", "h", HSW),
    GAP("gap", "h", "g"),
    DENSE("fc", "g", "logits", 10, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_efficient_edge_lite, "EfficientEdgeLite", "vision", "vision",
               "image classification", 89000);

// ref_mobilenet_vww.c - MLPerf Tiny visual wake words reference:
// MobileNetV1 with width 0.25 on 3x96x96 -> 2 class probabilities, as
// mlcommons/tiny's vww_model.py builds it: Conv2D(8, 3, strides 2, "same")
// + BN + ReLU, 13 depthwise-separable layers [DepthwiseConv2D 3x3 "same" +
// BN + ReLU, Conv2D 1x1 + BN + ReLU] with filters 16, 32, 32, 64, 64, 128
// (x6), 256, 256 and stride 2 at the 2nd, 4th, 6th and 12th, a 3x3
// average pool, Dense(2, softmax). TF "same" with stride 2 pads bottom/right.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 96, 96)};
static const char *const outputs[] = {"probabilities"};
#define DW_S1(i, c, x) DWCONV2D("dw" #i, x, "dwc" #i, c, 3, 1, 1, NONE)
#define DW_S2(i, c, x) DWCONV2D_S2SAME("dw" #i, x, "dwc" #i, c, NONE)
#define PW(i, co, y)                                                                               \
    BN("dw" #i "_bn", "dwc" #i, "dwa" #i, RELU), PWCONV2D("pw" #i, "dwa" #i, "pwc" #i, co, NONE),  \
        BN("pw" #i "_bn", "pwc" #i, y, RELU)
static const gaba_zoo_layer_def layers[] = {
    CONV2D_S2SAME("conv", "image", "c0", 8, NONE),
    BN("conv_bn", "c0", "x0", RELU), // 48
    DW_S1(1, 8, "x0"),
    PW(1, 16, "x1"),
    DW_S2(2, 16, "x1"),
    PW(2, 32, "x2"), // 24
    DW_S1(3, 32, "x2"),
    PW(3, 32, "x3"),
    DW_S2(4, 32, "x3"),
    PW(4, 64, "x4"), // 12
    DW_S1(5, 64, "x4"),
    PW(5, 64, "x5"),
    DW_S2(6, 64, "x5"),
    PW(6, 128, "x6"), // 6
    DW_S1(7, 128, "x6"),
    PW(7, 128, "x7"),
    DW_S1(8, 128, "x7"),
    PW(8, 128, "x8"),
    DW_S1(9, 128, "x8"),
    PW(9, 128, "x9"),
    DW_S1(10, 128, "x9"),
    PW(10, 128, "x10"),
    DW_S1(11, 128, "x10"),
    PW(11, 128, "x11"),
    DW_S2(12, 128, "x11"),
    PW(12, 256, "x12"), // 3
    DW_S1(13, 256, "x12"),
    PW(13, 256, "x13"),
    AVGPOOL2D("pool", "x13", "pl", 3, 3, 3, 3),
    FLATTEN("flat", "pl", "f"),
    DENSE("fc", "f", "fl", 2, NONE),
    SOFTMAX("softmax", "fl", "probabilities"),
};
GABA_ZOO_MODEL(gaba_zoo_ref_mobilenet_vww, "MobileNetV1_VWW", "reference", "vision",
               "MLPerf Tiny visual wake words (MobileNetV1 0.25)", 0);

// depth_estimate_lite.c - DepthEstimateLite: monocular depth on 3x128x128 ->
// 1x128x128 (sigmoid: normalised inverse depth). An encoder-decoder with
// skip connections at 64, 32 and 16: the encoder goes to 8x8 with
// depthwise-separable blocks, each decoder stage upsamples bilinearly,
// concatenates the encoder feature and fuses it; the last stage predicts at
// 64x64 and upsamples bilinearly to full size (fixes the seed's missing
// fourth upsample, unused head and unused skips).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 128, 128)};
static const char *const outputs[] = {"depth"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "image", "s0", 8, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s", RELU), // 64
    DWCONV2D("e1_dw", "s", "e1d", 8, 3, 1, 1, RELU),
    PWCONV2D("e1_pw", "e1d", "e1p", 16, NONE),
    BN("e1_bn", "e1p", "f64", RELU),
    DWCONV2D("e2_dw", "f64", "e2d", 16, 3, 2, 1, RELU), // 32
    PWCONV2D("e2_pw", "e2d", "e2p", 32, NONE),
    BN("e2_bn", "e2p", "f32", RELU),
    DWCONV2D("e3_dw", "f32", "e3d", 32, 3, 2, 1, RELU), // 16
    PWCONV2D("e3_pw", "e3d", "e3p", 64, NONE),
    BN("e3_bn", "e3p", "f16", RELU),
    DWCONV2D("e4_dw", "f16", "e4d", 64, 3, 2, 1, RELU), // 8
    PWCONV2D("e4_pw", "e4d", "e4p", 128, NONE),
    BN("e4_bn", "e4p", "e4a", RELU),
    DWCONV2D("e5_dw", "e4a", "e5d", 128, 3, 1, 1, RELU),
    PWCONV2D("e5_pw", "e5d", "e5p", 128, NONE),
    BN("e5_bn", "e5p", "e5a", RELU),
    CONV2D_X("e6_dw", "e5a", "e6d", 128, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 128, RELU), // dilated
    PWCONV2D("e6_pw", "e6d", "e6p", 128, NONE),
    BN("e6_bn", "e6p", "f8", RELU),
    UPSAMPLE2D("d3_up", "f8", "u16", 2, BILINEAR),
    CONCAT2("d3_cat", "u16", "f16", "c16"),
    PWCONV2D("d3_pw", "c16", "d3p", 64, NONE),
    BN("d3_bn", "d3p", "d3a", RELU),
    DWCONV2D("d3b_dw", "d3a", "d3bd", 64, 3, 1, 1, RELU),
    PWCONV2D("d3b_pw", "d3bd", "d3bp", 64, NONE),
    BN("d3b_bn", "d3bp", "g16", RELU),
    UPSAMPLE2D("d2_up", "g16", "u32", 2, BILINEAR),
    CONCAT2("d2_cat", "u32", "f32", "c32"),
    PWCONV2D("d2_pw", "c32", "d2p", 32, NONE),
    BN("d2_bn", "d2p", "d2a", RELU),
    DWCONV2D("d2b_dw", "d2a", "d2bd", 32, 3, 1, 1, RELU),
    PWCONV2D("d2b_pw", "d2bd", "d2bp", 32, NONE),
    BN("d2b_bn", "d2bp", "g32", RELU),
    UPSAMPLE2D("d1_up", "g32", "u64", 2, BILINEAR),
    CONCAT2("d1_cat", "u64", "f64", "c64"),
    PWCONV2D("d1_pw", "c64", "d1p", 8, NONE),
    BN("d1_bn", "d1p", "d1a", RELU),
    DWCONV2D("d1_dw", "d1a", "d1d", 8, 3, 1, 1, RELU),
    PWCONV2D("d1_pw2", "d1d", "d1c", 8, RELU),
    PWCONV2D("depth_head", "d1c", "dh", 1, NONE),
    UPSAMPLE2D("d0_up", "dh", "du", 2, BILINEAR),
    ACT("depth_act", "du", "depth", SIGM),
};
GABA_ZOO_MODEL(gaba_zoo_depth_estimate_lite, "DepthEstimateLite", "vision", "vision",
               "monocular depth (encoder-decoder, skips)", 75000);

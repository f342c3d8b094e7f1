// segment_micro.c - SegmentMicro: semantic segmentation on 3x64x64 -> 5
// class logits per pixel (5x64x64). A small U-Net: a depthwise-separable
// encoder down to 8x8, a decoder that upsamples bilinearly and concatenates
// the encoder feature of the same scale (skip connections) before each
// fusion block, and a 1x1 classifier at full resolution.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 64, 64)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("e1", "image", "e1c", 16, 3, 1, 1, NONE),
    BN("e1_bn", "e1c", "f64", RELU),
    DWCONV2D("e2_dw", "f64", "e2d", 16, 3, 2, 1, RELU), // 32
    PWCONV2D("e2_pw", "e2d", "e2p", 32, NONE),
    BN("e2_bn", "e2p", "e2a", RELU),
    DWCONV2D("e2b_dw", "e2a", "e2bd", 32, 3, 1, 1, RELU),
    PWCONV2D("e2b_pw", "e2bd", "e2bp", 32, NONE),
    BN("e2b_bn", "e2bp", "f32", RELU),
    DWCONV2D("e3_dw", "f32", "e3d", 32, 3, 2, 1, RELU), // 16
    PWCONV2D("e3_pw", "e3d", "e3p", 64, NONE),
    BN("e3_bn", "e3p", "e3a", RELU),
    DWCONV2D("e3b_dw", "e3a", "e3bd", 64, 3, 1, 1, RELU),
    PWCONV2D("e3b_pw", "e3bd", "e3bp", 64, NONE),
    BN("e3b_bn", "e3bp", "f16", RELU),
    DWCONV2D("e4_dw", "f16", "e4d", 64, 3, 2, 1, RELU), // 8
    PWCONV2D("e4_pw", "e4d", "e4p", 128, NONE),
    BN("e4_bn", "e4p", "e4a", RELU),
    DWCONV2D("e4b_dw", "e4a", "e4bd", 128, 3, 1, 1, RELU),
    PWCONV2D("e4b_pw", "e4bd", "e4bp", 128, NONE),
    BN("e4b_bn", "e4bp", "f8", RELU),
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
    // Full resolution is where MACs are expensive: the last stage stays 8 wide.
    PWCONV2D("d1_pw", "c64", "d1p", 8, NONE),
    BN("d1_bn", "d1p", "d1a", RELU),
    DWCONV2D("d1b_dw", "d1a", "d1bd", 8, 3, 1, 1, RELU),
    PWCONV2D("d1b_pw", "d1bd", "d1bp", 8, NONE),
    BN("d1b_bn", "d1bp", "g64", RELU),
    PWCONV2D("classifier", "g64", "logits", 5, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_segment_micro, "SegmentMicro", "vision", "vision", "semantic segmentation",
               62000);

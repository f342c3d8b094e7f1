// pose_estimate_micro.c - PoseEstimateMicro: 2-D human pose on 3x128x128 ->
// 17 keypoint heatmaps at 16x16 (stride 8). A depthwise-separable encoder
// to 8x8, one bilinear upsampling that is fused with the stride-8 feature
// (a skip connection), a refinement block and a 1x1 heatmap head.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 128, 128)};
static const char *const outputs[] = {"heatmaps"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "image", "s0", 16, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),                // 64
    DWCONV2D("dw1", "s", "d1", 16, 3, 2, 1, RELU), // 32
    PWCONV2D("pw1", "d1", "p1", 32, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV2D("dw2", "b1", "d2", 32, 3, 1, 1, RELU),
    PWCONV2D("pw2", "d2", "p2", 32, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV2D("dw3", "b2", "d3", 32, 3, 2, 1, RELU), // 16
    PWCONV2D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    DWCONV2D("dw4", "b3", "d4", 64, 3, 1, 1, RELU),
    PWCONV2D("pw4", "d4", "p4", 64, NONE),
    BN("pw4_bn", "p4", "b4", RELU),
    DWCONV2D("dw5", "b4", "d5", 64, 3, 1, 1, RELU),
    PWCONV2D("pw5", "d5", "p5", 64, NONE),
    BN("pw5_bn", "p5", "f16", RELU),
    DWCONV2D("dw6", "f16", "d6", 64, 3, 2, 1, RELU), // 8
    PWCONV2D("pw6", "d6", "p6", 128, NONE),
    BN("pw6_bn", "p6", "b6", RELU),
    DWCONV2D("dw7", "b6", "d7", 128, 3, 1, 1, RELU),
    PWCONV2D("pw7", "d7", "p7", 128, NONE),
    BN("pw7_bn", "p7", "f8", RELU),
    UPSAMPLE2D("up", "f8", "u16", 2, BILINEAR),
    CONCAT2("skip", "u16", "f16", "c16"),
    PWCONV2D("fuse", "c16", "fu", 64, NONE),
    BN("fuse_bn", "fu", "fz", RELU),
    DWCONV2D("ref_dw", "fz", "rd", 64, 3, 1, 1, RELU),
    PWCONV2D("ref_pw", "rd", "rp", 64, NONE),
    BN("ref_bn", "rp", "r", RELU),
    PWCONV2D("heatmap_head", "r", "heatmaps", 17, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_pose_estimate_micro, "PoseEstimateMicro", "vision", "vision",
               "2D pose heatmaps", 68000);

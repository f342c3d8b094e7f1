// face_detect_nano.c - FaceDetectNano: face detection with landmarks on a
// grey 1x80x80 image -> per cell of a 5x5 grid, a box (x, y, w, h,
// confidence) and 5 landmarks (x, y pairs). A stride-16 depthwise-separable
// backbone with a residual block and two 1x1 heads on the shared feature
// map (BlazeFace-like, single scale).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 1, 80, 80)};
static const char *const outputs[] = {"boxes", "landmarks"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "image", "s0", 16, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),                // 40
    DWCONV2D("dw1", "s", "d1", 16, 3, 2, 1, RELU), // 20
    PWCONV2D("pw1", "d1", "p1", 32, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV2D("dw2", "b1", "d2", 32, 3, 1, 1, RELU),
    PWCONV2D("pw2", "d2", "p2", 32, NONE),
    BN("pw2_bn", "p2", "b2", NONE),
    ADD("res2", "b1", "b2", "r2", RELU),
    DWCONV2D("dw3", "r2", "d3", 32, 3, 2, 1, RELU), // 10
    PWCONV2D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    DWCONV2D("dw4", "b3", "d4", 64, 3, 1, 1, RELU),
    PWCONV2D("pw4", "d4", "p4", 64, NONE),
    BN("pw4_bn", "p4", "b4", NONE),
    ADD("res4", "b3", "b4", "r4", RELU),
    DWCONV2D("dw5", "r4", "d5", 64, 3, 2, 1, RELU), // 5
    PWCONV2D("pw5", "d5", "p5", 96, NONE),
    BN("pw5_bn", "p5", "b5", RELU),
    DWCONV2D("dw6", "b5", "d6", 96, 3, 1, 1, RELU),
    PWCONV2D("pw6", "d6", "p6", 128, NONE),
    BN("pw6_bn", "p6", "f", RELU),
    DWCONV2D("box_dw", "f", "bd", 128, 3, 1, 1, RELU),
    PWCONV2D("box_head", "bd", "boxes", 5, NONE),
    PWCONV2D("landmark_head", "f", "landmarks", 10, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_face_detect_nano, "FaceDetectNano", "vision", "vision",
               "face detection + landmarks", 38000);

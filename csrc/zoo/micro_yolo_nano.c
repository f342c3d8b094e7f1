// micro_yolo_nano.c - MicroYOLONano: single-scale anchor-based detection on
// 3x96x96 -> a 12x12 grid x 3 anchors x (x, y, w, h, objectness, 5 class
// logits). A MobileNet-style backbone (stride 8) of depthwise-separable
// blocks with folded batch norms, a dilated block for receptive field, and a
// 1x1 head rearranged to (grid_y, grid_x, anchor, 10). Raw outputs: decoding
// and NMS are the caller's.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 96, 96)};
static const char *const outputs[] = {"detections"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "image", "s0", 16, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s1", RELU6),                // 48
    DWCONV2D("dw1", "s1", "d1", 16, 3, 2, 1, RELU6), // 24
    PWCONV2D("pw1", "d1", "p1", 32, NONE),
    BN("pw1_bn", "p1", "b1", RELU6),
    DWCONV2D("dw2", "b1", "d2", 32, 3, 1, 1, RELU6),
    PWCONV2D("pw2", "d2", "p2", 32, NONE),
    BN("pw2_bn", "p2", "b2", RELU6),
    DWCONV2D("dw3", "b2", "d3", 32, 3, 2, 1, RELU6), // 12
    PWCONV2D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU6),
    DWCONV2D("dw4", "b3", "d4", 64, 3, 1, 1, RELU6),
    PWCONV2D("pw4", "d4", "p4", 64, NONE),
    BN("pw4_bn", "p4", "b4", RELU6),
    ADD("res4", "b3", "b4", "r4", NONE),
    DWCONV2D("dw5", "r4", "d5", 64, 3, 1, 1, RELU6),
    PWCONV2D("pw5", "d5", "p5", 96, NONE),
    BN("pw5_bn", "p5", "b5", RELU6),
    CONV2D_X("dw6", "b5", "d6", 96, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 96, RELU6), // dilation 2
    PWCONV2D("pw6", "d6", "p6", 128, NONE),
    BN("pw6_bn", "p6", "b6", RELU6),
    PWCONV2D("neck", "b6", "n", 96, RELU6),
    PWCONV2D("head", "n", "h", 30, NONE), // (3 anchors * 10, 12, 12)
    RESHAPE2("flat", "h", "hf", 30, 144),
    TRANSPOSE("cells", "hf", "ht"), // (144, 30)
    RESHAPE4("grid", "ht", "detections", 12, 12, 3, 10),
};
GABA_ZOO_MODEL(gaba_zoo_micro_yolo_nano, "MicroYOLONano", "vision", "vision", "object detection",
               47000);

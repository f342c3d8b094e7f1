// object_track_nano.c - ObjectTrackNano: Siamese single-object tracking.
// search 3x64x64 and template 3x32x32 -> 4 box offsets (dx, dy, dw, dh).
// One backbone, shared by both branches (the template branch's layers reuse
// the search branch's weights), turns each crop into 96 channels at stride
// 8; the template is pooled to a 96-vector that gates the search map
// channel by channel (a channel-wise correlation that works for any
// template size, unlike the seed's elementwise product of equal-size maps);
// a small head with global pooling regresses the box.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("search", 3, 64, 64),
                                         F32_IN("template", 3, 32, 32)};
static const char *const outputs[] = {"box"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "search", "s0", 16, 3, 2, 1, NONE),
    BN("stem_bn", "s0", "s1", RELU),                 // 32
    DWCONV2D("dw1", "s1", "sd1", 16, 3, 2, 1, RELU), // 16
    PWCONV2D("pw1", "sd1", "sp1", 32, NONE),
    BN("pw1_bn", "sp1", "sb1", RELU),
    DWCONV2D("dw2", "sb1", "sd2", 32, 3, 2, 1, RELU), // 8
    PWCONV2D("pw2", "sd2", "sp2", 64, NONE),
    BN("pw2_bn", "sp2", "sb2", RELU),
    DWCONV2D("dw3", "sb2", "sd3", 64, 3, 1, 1, RELU),
    PWCONV2D("pw3", "sd3", "sp3", 96, NONE),
    BN("pw3_bn", "sp3", "sf", RELU),
    CONV2D_SHARED("t_stem", "template", "t1", 16, 3, 2, 1, RELU, "stem"), // 16
    DWCONV2D_SHARED("t_dw1", "t1", "td1", 16, 3, 2, 1, RELU, "dw1"),      // 8
    PWCONV2D_SHARED("t_pw1", "td1", "tb1", 32, RELU, "pw1"),
    DWCONV2D_SHARED("t_dw2", "tb1", "td2", 32, 3, 2, 1, RELU, "dw2"), // 4
    PWCONV2D_SHARED("t_pw2", "td2", "tb2", 64, RELU, "pw2"),
    DWCONV2D_SHARED("t_dw3", "tb2", "td3", 64, 3, 1, 1, RELU, "dw3"),
    PWCONV2D_SHARED("t_pw3", "td3", "tf", 96, RELU, "pw3"),
    GAP("t_pool", "tf", "tv"),
    MUL("correlate", "sf", "tv", "corr", NONE),
    PWCONV2D("h_pw1", "corr", "h1", 128, NONE),
    BN("h_bn1", "h1", "h1a", RELU),
    DWCONV2D("h_dw", "h1a", "hd", 128, 3, 2, 1, RELU), // 4
    PWCONV2D("h_pw2", "hd", "h2", 128, NONE),
    BN("h_bn2", "h2", "h2a", RELU),
    GAP("h_pool", "h2a", "hv"),
    DENSE("fc1", "hv", "f1", 64, RELU),
    DENSE("fc2", "f1", "box", 4, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_object_track_nano, "ObjectTrackNano", "vision", "vision",
               "Siamese object tracking", 58000);

// music_genre_micro.c - MusicGenreMicro: genre classification on a 1x128x128
// mel spectrogram -> 10 logits. A 2-D depthwise-separable CNN (stride 16),
// global average pooling, dense classifier; any spectrogram size works.
// Laid out for memory: a 5x5 stride-4 stem takes the spectrogram straight to
// 32x32, and the channels widen only after the next stride, so no two
// adjacent int8 activations exceed 32 KB (weights + arena fit in 100 KB).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("mel", 1, 128, 128)};
static const char *const outputs[] = {"logits"};

static const gaba_zoo_layer_def layers[] = {
    CONV2D("stem", "mel", "s0", 16, 5, 4, 2, NONE),
    BN("stem_bn", "s0", "s", RELU), // 32
    DWCONV2D("dw1", "s", "d1", 16, 3, 1, 1, RELU),
    PWCONV2D("pw1", "d1", "p1", 16, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV2D("dw2", "b1", "d2", 16, 3, 2, 1, RELU), // 16
    PWCONV2D("pw2", "d2", "p2", 48, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV2D("dw3", "b2", "d3", 48, 3, 1, 1, RELU),
    PWCONV2D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    DWCONV2D("dw4", "b3", "d4", 64, 3, 2, 1, RELU), // 8
    PWCONV2D("pw4", "d4", "p4", 96, NONE),
    BN("pw4_bn", "p4", "b4", RELU),
    DWCONV2D("dw5", "b4", "d5", 96, 3, 1, 1, RELU),
    PWCONV2D("pw5", "d5", "p5", 128, NONE),
    BN("pw5_bn", "p5", "b5", RELU),
    DWCONV2D("dw6", "b5", "d6", 128, 3, 1, 1, RELU),
    PWCONV2D("pw6", "d6", "p6", 128, NONE),
    BN("pw6_bn", "p6", "b6", RELU),
    GAP("gap", "b6", "g"),
    DENSE("fc", "g", "logits", 10, NONE),
};

GABA_ZOO_MODEL(gaba_zoo_music_genre_micro, "MusicGenreMicro", "audio", "audio",
               "music genre classification", 48000);

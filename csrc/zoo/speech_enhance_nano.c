// speech_enhance_nano.c - SpeechEnhanceNano: speech enhancement on a 1x1600
// waveform (100 ms at 16 kHz) -> the enhanced 1x1600 waveform. A 1-D U-Net
// predicts a sigmoid mask that multiplies the input sample by sample:
// strided conv encoder to 100 steps, dilated depthwise-separable residual
// bottleneck (dilations 1, 2, 4, 8), decoder with nearest upsampling and
// skip concatenations. Laid out for memory: the channels grow as the steps
// shrink (8 x 800 ... 64 x 100), so the skip tensors, alive through the
// whole network, hold 6.4 KB each in int8, and the bottleneck is squeezed
// to 16 channels before it is upsampled (weights + arena fit in 100 KB).
// The length must be a multiple of 16 for the skips to line up (1600 is).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("waveform", 1, 1600)};
static const char *const outputs[] = {"enhanced"};

#define RES_BLOCK(b, x, y, dil)                                                                    \
    DWCONV1D(b "_dw", x, b "d", 64, 5, 1, 2 * (dil), dil, RELU),                                   \
        PWCONV1D(b "_pw", b "d", b "p", 64, NONE), BN(b "_bn", b "p", b "o", NONE),                \
        ADD(b "_add", x, b "o", y, RELU)

// Upsample x2, concatenate the skip, pointwise to 16 channels, depthwise k5.
#define UP_BLOCK(b, x, skip, y)                                                                    \
    UPSAMPLE1D(b "_up", x, b "u", 2, NEAREST), CONCAT2(b "_cat", b "u", skip, b "c"),              \
        PWCONV1D(b "_pw", b "c", b "p", 16, NONE), BN(b "_pw_bn", b "p", b "a", RELU),             \
        DWCONV1D(b "_dw", b "a", b "d", 16, 5, 1, 2, 1, NONE), BN(b "_bn", b "d", y, RELU)

static const gaba_zoo_layer_def layers[] = {
    CONV1D("e1", "waveform", "e1c", 8, 9, 2, 4, 1, NONE),
    BN("e1_bn", "e1c", "f800", RELU),
    CONV1D("e2", "f800", "e2c", 16, 5, 2, 2, 1, NONE),
    BN("e2_bn", "e2c", "f400", RELU),
    CONV1D("e3", "f400", "e3c", 32, 5, 2, 2, 1, NONE),
    BN("e3_bn", "e3c", "f200", RELU),
    CONV1D("e4", "f200", "e4c", 64, 5, 2, 2, 1, NONE),
    BN("e4_bn", "e4c", "f100", RELU),
    RES_BLOCK("b1", "f100", "r1", 1),
    RES_BLOCK("b2", "r1", "r2", 2),
    RES_BLOCK("b3", "r2", "r3", 4),
    RES_BLOCK("b4", "r3", "r4", 8),
    PWCONV1D("squeeze", "r4", "sq", 16, NONE),
    BN("squeeze_bn", "sq", "q100", RELU),
    UP_BLOCK("d4", "q100", "f200", "g200"),
    UP_BLOCK("d3", "g200", "f400", "g400"),
    UPSAMPLE1D("d2_up", "g400", "u800", 2, NEAREST),
    CONCAT2("d2_cat", "u800", "f800", "c800"),
    CONV1D("d2", "c800", "d2c", 8, 5, 1, 2, 1, NONE),
    BN("d2_bn", "d2c", "g800", RELU),
    UPSAMPLE1D("d1_up", "g800", "u1600", 2, NEAREST),
    CONV1D("d1", "u1600", "g1600", 8, 5, 1, 2, 1, RELU),
    PWCONV1D("mask_head", "g1600", "mask", 1, SIGM),
    MUL("apply_mask", "waveform", "mask", "enhanced", NONE),
};

GABA_ZOO_MODEL(gaba_zoo_speech_enhance_nano, "SpeechEnhanceNano", "audio", "audio",
               "speech enhancement (masking)", 42000);

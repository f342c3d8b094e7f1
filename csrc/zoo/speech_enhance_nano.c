// speech_enhance_nano.c - SpeechEnhanceNano: speech enhancement on a 1x1600
// waveform (100 ms at 16 kHz) -> the enhanced 1x1600 waveform. A 1-D U-Net
// predicts a sigmoid mask that multiplies the input sample by sample:
// strided conv encoder to 200 steps, dilated depthwise-separable residual
// bottleneck (dilations 2, 4, 8), decoder with nearest upsampling and skip
// concatenations. The length must be a multiple of 8 for the skips to line
// up (1600 is).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("waveform", 1, 1600)};
static const char *const outputs[] = {"enhanced"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("e1", "waveform", "e1c", 16, 9, 2, 4, 1, NONE), BN("e1_bn", "e1c", "f800", RELU),
    CONV1D("e2", "f800", "e2c", 32, 5, 2, 2, 1, NONE), BN("e2_bn", "e2c", "f400", RELU),
    CONV1D("e3", "f400", "e3c", 64, 5, 2, 2, 1, NONE), BN("e3_bn", "e3c", "f200", RELU),
    DWCONV1D("b1_dw", "f200", "b1d", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("b1_pw", "b1d", "b1p", 64, NONE), BN("b1_bn", "b1p", "b1", NONE),
    ADD("b1_add", "f200", "b1", "r1", RELU),
    DWCONV1D("b2_dw", "r1", "b2d", 64, 5, 1, 8, 4, RELU),
    PWCONV1D("b2_pw", "b2d", "b2p", 64, NONE), BN("b2_bn", "b2p", "b2", NONE),
    ADD("b2_add", "r1", "b2", "r2", RELU),
    DWCONV1D("b3_dw", "r2", "b3d", 64, 5, 1, 16, 8, RELU),
    PWCONV1D("b3_pw", "b3d", "b3p", 64, NONE), BN("b3_bn", "b3p", "b3", NONE),
    ADD("b3_add", "r2", "b3", "r3", RELU),
    UPSAMPLE1D("d3_up", "r3", "u400", 2, NEAREST),
    CONCAT2("d3_cat", "u400", "f400", "c400"),
    // Separable at 400 steps: a full k5 conv here held a third of the MACs.
    PWCONV1D("d3_pw", "c400", "d3p", 32, NONE), BN("d3_pw_bn", "d3p", "d3a", RELU),
    DWCONV1D("d3_dw", "d3a", "d3d", 32, 5, 1, 2, 1, NONE), BN("d3_bn", "d3d", "g400", RELU),
    UPSAMPLE1D("d2_up", "g400", "u800", 2, NEAREST),
    CONCAT2("d2_cat", "u800", "f800", "c800"),
    CONV1D("d2", "c800", "d2c", 16, 5, 1, 2, 1, NONE), BN("d2_bn", "d2c", "g800", RELU),
    UPSAMPLE1D("d1_up", "g800", "u1600", 2, NEAREST),
    CONV1D("d1", "u1600", "g1600", 16, 5, 1, 2, 1, RELU),
    PWCONV1D("mask_head", "g1600", "mask", 1, SIGM),
    MUL("apply_mask", "waveform", "mask", "enhanced", NONE),
};
GABA_ZOO_MODEL(gaba_zoo_speech_enhance_nano, "SpeechEnhanceNano", "audio", "speech enhancement (masking)", 42000);

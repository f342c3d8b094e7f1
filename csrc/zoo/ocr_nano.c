// ocr_nano.c - OCRNano: text-line recognition on a grey 1x32x128 line ->
// 16 time steps x 63 CTC logits (62 characters + blank). A CRNN: a conv
// stack pools the height to 1 and the width to 16 columns, a 1-D conv and a
// GRU run along the columns, and a per-step 1x1 projection gives the logits
// (time-major, as CTC decoding reads them). Fixes the seed's 256-vs-64
// feature mismatch by pooling the height away before the sequence model.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 1, 32, 128)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("c1", "image", "c1c", 16, 3, 1, 1, NONE),
    BN("c1_bn", "c1c", "c1a", RELU),
    MAXPOOL2D("p1", "c1a", "p1o", 2, 2), // 16x64
    CONV2D("c2", "p1o", "c2c", 32, 3, 1, 1, NONE),
    BN("c2_bn", "c2c", "c2a", RELU),
    MAXPOOL2D("p2", "c2a", "p2o", 2, 2), // 8x32
    DWCONV2D("dw3", "p2o", "d3", 32, 3, 1, 1, RELU),
    PWCONV2D("pw3", "d3", "c3c", 48, NONE),
    BN("c3_bn", "c3c", "c3a", RELU),
    MAXPOOL2D("p3", "c3a", "p3o", 2, 2), // 4x16
    DWCONV2D("dw4", "p3o", "d4", 48, 3, 1, 1, RELU),
    PWCONV2D("pw4", "d4", "c4c", 64, NONE),
    BN("c4_bn", "c4c", "c4a", RELU),
    AVGPOOL2D("collapse", "c4a", "col", 4, 1, 4, 1), // 1x16
    RESHAPE2("seq", "col", "s", 64, 16),
    CONV1D("ctx", "s", "cx", 64, 3, 1, 1, 1, RELU),
    GRU("gru", "cx", "h", 64, 1), // (64, 16)
    PWCONV1D("proj", "h", "pl", 63, NONE),
    TRANSPOSE("time_major", "pl", "logits"), // (16, 63)
};
GABA_ZOO_MODEL(gaba_zoo_ocr_nano, "OCRNano", "vision", "vision", "text line recognition (CTC)",
               52000);

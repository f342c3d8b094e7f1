// ref_ds_cnn_kws.c - MLPerf Tiny keyword spotting reference: DS-CNN (small,
// 64 filters) on 49 frames x 10 MFCC -> 12 class probabilities, as
// mlcommons/tiny's keyword_spotting keras_model.py builds it: Conv2D(64,
// (10, 4), strides 2, "same") + BN + ReLU, four [DepthwiseConv2D 3x3 "same"
// + BN + ReLU, Conv2D 1x1 + BN + ReLU], AveragePooling2D(25, 5), Dense(12,
// softmax). Dropout is an identity at inference. NHWC (49, 10, 1) there is
// (1, 49, 10) here; TF "same" padding is written out (4 top, 5 bottom).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("mfcc", 1, 49, 10)};
static const char *const outputs[] = {"probabilities"};
#define DS_BLOCK(i, x, y)                                                                          \
    DWCONV2D("dw" #i, x, "dwc" #i, 64, 3, 1, 1, NONE),                                             \
        BN("dw" #i "_bn", "dwc" #i, "dwa" #i, RELU),                                               \
        PWCONV2D("pw" #i, "dwa" #i, "pwc" #i, 64, NONE), BN("pw" #i "_bn", "pwc" #i, y, RELU)
static const gaba_zoo_layer_def layers[] = {
    CONV2D_X("conv", "mfcc", "c0", 64, 10, 4, 2, 2, 4, 1, 5, 1, 1, 1, 1, NONE), // (64, 25, 5)
    BN("conv_bn", "c0", "x0", RELU),
    DS_BLOCK(1, "x0", "x1"),
    DS_BLOCK(2, "x1", "x2"),
    DS_BLOCK(3, "x2", "x3"),
    DS_BLOCK(4, "x3", "x4"),
    AVGPOOL2D("pool", "x4", "pl", 25, 5, 25, 5),
    FLATTEN("flat", "pl", "f"),
    DENSE("fc", "f", "fl", 12, NONE),
    SOFTMAX("softmax", "fl", "probabilities"),
};
GABA_ZOO_MODEL(gaba_zoo_ref_ds_cnn_kws, "DSCNN_KWS", "reference", "audio",
               "MLPerf Tiny keyword spotting (DS-CNN)", 0);

// ref_resnet8.c - MLPerf Tiny image classification reference: ResNet-8
// (resnet_v1_eembc, 16/32/64 filters) on 3x32x32 -> 10 class probabilities,
// as mlcommons/tiny's image_classification keras_model.py builds it: a 3x3
// conv + BN + ReLU, three stacks of two 3x3 convs with BN (stride 2 at the
// start of stacks 2 and 3, whose shortcut is a 1x1 stride-2 conv without
// BN), add + ReLU, AveragePooling2D(8), Dense(10, softmax).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("image", 3, 32, 32)};
static const char *const outputs[] = {"probabilities"};
static const gaba_zoo_layer_def layers[] = {
    CONV2D("conv", "image", "c0", 16, 3, 1, 1, NONE),
    BN("conv_bn", "c0", "x0", RELU),
    CONV2D("s1_c1", "x0", "a1", 16, 3, 1, 1, NONE),
    BN("s1_bn1", "a1", "a1r", RELU),
    CONV2D("s1_c2", "a1r", "a2", 16, 3, 1, 1, NONE),
    BN("s1_bn2", "a2", "a2n", NONE),
    ADD("s1_add", "x0", "a2n", "x1", RELU),
    CONV2D_S2SAME("s2_c1", "x1", "b1", 32, NONE),
    BN("s2_bn1", "b1", "b1r", RELU), // 16
    CONV2D("s2_c2", "b1r", "b2", 32, 3, 1, 1, NONE),
    BN("s2_bn2", "b2", "b2n", NONE),
    CONV2D_X("s2_short", "x1", "bs", 32, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, NONE),
    ADD("s2_add", "bs", "b2n", "x2", RELU),
    CONV2D_S2SAME("s3_c1", "x2", "c1", 64, NONE),
    BN("s3_bn1", "c1", "c1r", RELU), // 8
    CONV2D("s3_c2", "c1r", "c2", 64, 3, 1, 1, NONE),
    BN("s3_bn2", "c2", "c2n", NONE),
    CONV2D_X("s3_short", "x2", "cs", 64, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, NONE),
    ADD("s3_add", "cs", "c2n", "x3", RELU),
    AVGPOOL2D("pool", "x3", "pl", 8, 8, 8, 8),
    FLATTEN("flat", "pl", "f"),
    DENSE("fc", "f", "fl", 10, NONE),
    SOFTMAX("softmax", "fl", "probabilities"),
};
GABA_ZOO_MODEL(gaba_zoo_ref_resnet8, "ResNet8", "reference", "vision",
               "MLPerf Tiny image classification (ResNet-8)", 0);

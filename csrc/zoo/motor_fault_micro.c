// motor_fault_micro.c - MotorFaultMicro: motor fault diagnosis from 3-axis
// vibration (3 x 1024 samples) -> 10 logits. A strided wide-kernel stem
// (as WDCNN), depthwise-separable blocks with pooling, then mean and max
// pooling over time concatenated (instead of the seed's 4096->128 flatten
// layer holding 94% of its parameters) and a two-layer head.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("vibration", 3, 1024)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "vibration", "s0", 32, 9, 4, 4, 1, NONE),
    BN("stem_bn", "s0", "s", RELU), // 256
    DWCONV1D("dw1", "s", "d1", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool1", "b1", "m1", 2, 2), // 128
    DWCONV1D("dw2", "m1", "d2", 64, 5, 1, 2, 1, RELU),
    PWCONV1D("pw2", "d2", "p2", 96, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    MAXPOOL1D("pool2", "b2", "m2", 2, 2), // 64
    DWCONV1D("dw3", "m2", "d3", 96, 5, 1, 2, 1, RELU),
    PWCONV1D("pw3", "d3", "p3", 128, NONE),
    BN("pw3_bn", "p3", "b3", RELU),
    MAXPOOL1D("pool3", "b3", "m3", 2, 2), // 32
    DWCONV1D("dw4", "m3", "d4", 128, 5, 1, 2, 1, RELU),
    PWCONV1D("pw4", "d4", "p4", 160, NONE),
    BN("pw4_bn", "p4", "b4", RELU),
    GAP("mean", "b4", "mu"),
    GMP("max", "b4", "mx"),
    CONCAT2("stats", "mu", "mx", "st"),
    DENSE("fc1", "st", "h", 32, RELU),
    DENSE("fc2", "h", "logits", 10, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_motor_fault_micro, "MotorFaultMicro", "sensor", "sensor",
               "motor fault diagnosis", 62000);

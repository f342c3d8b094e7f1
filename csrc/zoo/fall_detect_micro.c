// fall_detect_micro.c - FallDetectMicro: fall detection from an IMU window
// (6 axes x 64 steps) -> 2 logits. A 1-D CNN (pooling to 32 steps, a
// dilated separable block with the length-preserving padding the seed got
// wrong), a GRU over the 32 steps, a dense classifier on its last state.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("imu", 6, 64)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("conv", "imu", "c0", 32, 5, 1, 2, 1, NONE),
    BN("conv_bn", "c0", "c", RELU),
    DWCONV1D("dw1", "c", "d1", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool", "b1", "m", 2, 2), // 32
    DWCONV1D("dw2", "m", "d2", 64, 5, 1, 2, 1, RELU),
    PWCONV1D("pw2", "d2", "p2", 96, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV1D("dw3", "b2", "d3", 96, 5, 1, 4, 2, RELU),
    PWCONV1D("pw3", "d3", "p3", 96, NONE),
    BN("pw3_bn", "p3", "b3", NONE),
    ADD("res3", "b2", "b3", "r3", RELU),
    GRU("gru", "r3", "h", 32, 0),
    DENSE("fc", "h", "logits", 2, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_fall_detect_micro, "FallDetectMicro", "sensor", "sensor", "fall detection",
               38000);

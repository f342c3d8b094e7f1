// sensor_fusion_nano.c - SensorFusionNano: activity classification from an
// IMU window (6 axes x 32 steps) and 3 environmental readings -> 12
// logits. The IMU branch is a 1-D CNN with global pooling; the environment
// branch is a small MLP that also emits a sigmoid gate over the IMU
// features (feature-wise attention); gated IMU and environment features are
// concatenated into a two-layer classifier.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("imu", 6, 32), F32_IN("env", 3)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("imu_conv", "imu", "i0", 32, 5, 1, 2, 1, NONE),
    BN("imu_bn", "i0", "i1", RELU),
    DWCONV1D("imu_dw1", "i1", "id1", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("imu_pw1", "id1", "ip1", 64, NONE),
    BN("imu_pw1_bn", "ip1", "ib1", RELU),
    MAXPOOL1D("imu_pool", "ib1", "im", 2, 2), // 16
    DWCONV1D("imu_dw2", "im", "id2", 64, 3, 1, 1, 1, RELU),
    PWCONV1D("imu_pw2", "id2", "ip2", 64, NONE),
    BN("imu_pw2_bn", "ip2", "ib2", RELU),
    GAP("imu_gap", "ib2", "iv"),
    DENSE("env_fc", "env", "ev", 32, RELU),
    DENSE("env_gate", "ev", "gate", 64, SIGM),
    MUL("gating", "iv", "gate", "gv", NONE),
    CONCAT2("fuse", "gv", "ev", "fv"),
    DENSE("fc1", "fv", "h", 96, RELU),
    DENSE("fc2", "h", "logits", 12, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_sensor_fusion_nano, "SensorFusionNano", "sensor", "sensor",
               "multi-sensor fusion classification", 22000);

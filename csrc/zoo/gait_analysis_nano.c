// gait_analysis_nano.c - GaitAnalysisNano: gait analysis from an IMU window
// (6 axes x 200 steps) -> cycle time, symmetry and stability (sigmoid
// scores) and 5 pathology logits. A 1-D CNN with a dilated residual
// block, global pooling, a shared dense trunk and four heads.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("imu", 6, 200)};
static const char *const outputs[] = {"cycle", "symmetry", "stability", "pathology"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "imu", "s0", 32, 7, 2, 3, 1, NONE),
    BN("stem_bn", "s0", "s", RELU), // 100
    DWCONV1D("dw1", "s", "d1", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool", "b1", "m", 2, 2), // 50
    DWCONV1D("dw2", "m", "d2", 64, 5, 1, 2, 1, RELU),
    PWCONV1D("pw2", "d2", "p2", 96, NONE),
    BN("pw2_bn", "p2", "b2", RELU),
    DWCONV1D("dw3", "b2", "d3", 96, 5, 1, 4, 2, RELU),
    PWCONV1D("pw3", "d3", "p3", 96, NONE),
    BN("pw3_bn", "p3", "b3", NONE),
    ADD("res3", "b2", "b3", "r3", RELU),
    GAP("gap", "r3", "g"),
    DENSE("trunk", "g", "h", 96, RELU),
    DENSE("cycle_head", "h", "cycle", 1, NONE),
    DENSE("symmetry_head", "h", "symmetry", 1, SIGM),
    DENSE("stability_head", "h", "stability", 1, SIGM),
    DENSE("pathology_head", "h", "pathology", 5, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_gait_analysis_nano, "GaitAnalysisNano", "sensor", "sensor", "gait analysis",
               34000);

// energy_predict_nano.c - EnergyPredictNano: day-ahead energy forecast from
// 4 features x 96 quarter-hours -> 24 hourly values. Three parallel
// dilated conv branches (dilations 1, 2, 4) see different time scales;
// causal dilated residual blocks (8, 16) widen the receptive field; a
// learned temporal pooling (depthwise conv over the window) replaces the
// seed's 3072->128 flatten layer, then a two-layer head.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("history", 4, 96)};
static const char *const outputs[] = {"forecast"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("scale1", "history", "a0", 32, 5, 1, 2, 1, NONE),
    BN("scale1_bn", "a0", "a", RELU),
    CONV1D("scale2", "history", "b0", 32, 5, 1, 4, 2, NONE),
    BN("scale2_bn", "b0", "b", RELU),
    CONV1D("scale4", "history", "c0", 32, 5, 1, 8, 4, NONE),
    BN("scale4_bn", "c0", "c", RELU),
    CONCAT3("scales", "a", "b", "c", "s"),
    PWCONV1D("mix", "s", "m0", 64, NONE),
    BN("mix_bn", "m0", "m", RELU),
    CCONV1D("tcn8", "m", "t1", 64, 3, 8, RELU),
    ADD("res8", "m", "t1", "r1", NONE),
    CCONV1D("tcn16", "r1", "t2", 64, 3, 16, RELU),
    ADD("res16", "r1", "t2", "r2", NONE),
    DWCONV1D("temporal_pool", "r2", "tp", 64, 96, 1, 0, 1, NONE), // (64, 1)
    FLATTEN("flat", "tp", "f"),
    DENSE("fc1", "f", "h", 96, RELU),
    DENSE("fc2", "h", "forecast", 24, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_energy_predict_nano, "EnergyPredictNano", "sensor", "sensor",
               "energy forecasting", 54000);

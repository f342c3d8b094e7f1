// time_series_forecast_micro.c - TimeSeriesForecastMicro: forecast 16 future
// steps of 3 series from the last 64 -> 3x16. A causal TCN (left-padded
// dilated convs, dilations 1..16, residual connections: output t sees only
// inputs <= t), a learned temporal pooling (a depthwise conv spanning the
// window) and a linear head reshaped to (series, horizon).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("history", 3, 64)};
static const char *const outputs[] = {"forecast"};
static const gaba_zoo_layer_def layers[] = {
    CCONV1D("tcn0", "history", "t0", 32, 3, 1, RELU),
    CCONV1D("tcn1", "t0", "t1", 32, 3, 2, RELU),
    ADD("res1", "t0", "t1", "r1", NONE),
    CCONV1D("tcn2", "r1", "t2", 32, 3, 4, RELU),
    ADD("res2", "r1", "t2", "r2", NONE),
    CCONV1D("tcn3", "r2", "t3", 32, 3, 8, RELU),
    ADD("res3", "r2", "t3", "r3", NONE),
    CCONV1D("tcn4", "r3", "t4", 32, 3, 16, RELU),
    ADD("res4", "r3", "t4", "r4", NONE),
    DWCONV1D("temporal_pool", "r4", "tp", 32, 64, 1, 0, 1, NONE), // (32, 1)
    FLATTEN("flat", "tp", "f"),
    DENSE("head", "f", "h", 48, NONE),
    RESHAPE2("shape", "h", "forecast", 3, 16),
};
GABA_ZOO_MODEL(gaba_zoo_time_series_forecast_micro, "TimeSeriesForecastMicro", "sensor", "sensor",
               "time-series forecasting (causal TCN)", 18000);

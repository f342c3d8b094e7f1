// health_monitor_nano.c - HealthMonitorNano: vital signs from an ECG window
// (1x250) and a PPG window (1x100) -> heart rate, HRV, SpO2 (sigmoid, a
// fraction) and 3 stress logits. Two 1-D CNN branches, each globally
// pooled to a vector (the seed kept the pooled axis and crashed), a shared
// MLP trunk and four heads.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("ecg", 1, 250), F32_IN("ppg", 1, 100)};
static const char *const outputs[] = {"hr", "hrv", "spo2", "stress"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("ecg_conv", "ecg", "e0", 16, 7, 2, 3, 1, NONE),
    BN("ecg_bn", "e0", "e1", RELU), // 125
    DWCONV1D("ecg_dw1", "e1", "ed1", 16, 5, 1, 2, 1, RELU),
    PWCONV1D("ecg_pw1", "ed1", "ep1", 32, NONE),
    BN("ecg_pw1_bn", "ep1", "eb1", RELU),
    MAXPOOL1D("ecg_pool", "eb1", "em", 2, 2), // 62
    DWCONV1D("ecg_dw2", "em", "ed2", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("ecg_pw2", "ed2", "ep2", 64, NONE),
    BN("ecg_pw2_bn", "ep2", "eb2", RELU),
    DWCONV1D("ecg_dw3", "eb2", "ed3", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("ecg_pw3", "ed3", "ep3", 96, NONE),
    BN("ecg_pw3_bn", "ep3", "eb3", RELU),
    GAP("ecg_gap", "eb3", "ev"),
    CONV1D("ppg_conv", "ppg", "p0", 16, 5, 1, 2, 1, NONE),
    BN("ppg_bn", "p0", "p1", RELU),
    DWCONV1D("ppg_dw1", "p1", "pd1", 16, 5, 1, 2, 1, RELU),
    PWCONV1D("ppg_pw1", "pd1", "pp1", 32, NONE),
    BN("ppg_pw1_bn", "pp1", "pb1", RELU),
    MAXPOOL1D("ppg_pool", "pb1", "pm", 2, 2), // 50
    DWCONV1D("ppg_dw2", "pm", "pd2", 32, 5, 1, 2, 1, RELU),
    PWCONV1D("ppg_pw2", "pd2", "pp2", 64, NONE),
    BN("ppg_pw2_bn", "pp2", "pb2", RELU),
    GAP("ppg_gap", "pb2", "pv"),
    CONCAT2("fuse", "ev", "pv", "fv"),
    DENSE("fc1", "fv", "h1", 128, RELU),
    DENSE("fc2", "h1", "h2", 64, RELU),
    DENSE("hr_head", "h2", "hr", 1, NONE),
    DENSE("hrv_head", "h2", "hrv", 1, NONE),
    DENSE("spo2_head", "h2", "spo2", 1, SIGM),
    DENSE("stress_head", "h2", "stress", 3, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_health_monitor_nano, "HealthMonitorNano", "sensor", "sensor",
               "vital signs (ECG + PPG)", 44000);

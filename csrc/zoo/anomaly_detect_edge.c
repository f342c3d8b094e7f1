// anomaly_detect_edge.c - AnomalyDetectEdge: a convolutional autoencoder
// for 5 sensor channels x 32 steps -> the 5x32 reconstruction and the
// per-sample reconstruction error mean((x - x_hat)^2), computed in the
// graph. Strided 1-D conv encoder to an 16x8 bottleneck, nearest-upsampling
// conv decoder, linear output.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("signal", 5, 32)};
static const char *const outputs[] = {"reconstruction", "error"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("enc1", "signal", "e1", 32, 5, 1, 2, 1, RELU),
    CONV1D("enc2", "e1", "e2", 32, 3, 2, 1, 1, RELU), // 16
    CONV1D("enc3", "e2", "z", 16, 3, 2, 1, 1, RELU),  // 8: the bottleneck
    UPSAMPLE1D("up1", "z", "u1", 2, NEAREST),
    CONV1D("dec1", "u1", "g1", 32, 3, 1, 1, 1, RELU),
    UPSAMPLE1D("up2", "g1", "u2", 2, NEAREST),
    CONV1D("dec2", "u2", "g2", 32, 3, 1, 1, 1, RELU),
    PWCONV1D("out", "g2", "reconstruction", 5, NONE),
    SUB("diff", "signal", "reconstruction", "d", NONE),
    MUL("square", "d", "d", "sq", NONE),
    RESHAPE2("rows", "sq", "sq1", 1, 160),
    GAP("mse", "sq1", "error"),
};
GABA_ZOO_MODEL(gaba_zoo_anomaly_detect_edge, "AnomalyDetectEdge", "sensor", "sensor",
               "anomaly detection (autoencoder)", 12000);

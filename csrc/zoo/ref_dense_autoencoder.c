// ref_dense_autoencoder.c - MLPerf Tiny anomaly detection reference: the
// dense autoencoder on 640 inputs (5 frames x 128 log-mel bins) -> the 640
// reconstruction, as mlcommons/tiny's anomaly_detection keras_model.py
// builds it: Dense(128) + BN + ReLU x4, Dense(8) + BN + ReLU, Dense(128) +
// BN + ReLU x4, Dense(640).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("features", 640)};
static const char *const outputs[] = {"reconstruction"};
#define FC_BN(i, x, y, n)                                                                          \
    DENSE("fc" #i, x, "fc" #i "_o", n, NONE), BN("bn" #i, "fc" #i "_o", y, RELU)
static const gaba_zoo_layer_def layers[] = {
    FC_BN(1, "features", "h1", 128), FC_BN(2, "h1", "h2", 128),
    FC_BN(3, "h2", "h3", 128),       FC_BN(4, "h3", "h4", 128),
    FC_BN(5, "h4", "z", 8),          FC_BN(6, "z", "h6", 128),
    FC_BN(7, "h6", "h7", 128),       FC_BN(8, "h7", "h8", 128),
    FC_BN(9, "h8", "h9", 128),       DENSE("fc10", "h9", "reconstruction", 640, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_ref_dense_autoencoder, "DenseAutoencoder_AD", "reference", "audio",
               "MLPerf Tiny anomaly detection (dense autoencoder)", 0);

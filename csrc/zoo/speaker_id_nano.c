// speaker_id_nano.c - SpeakerIDNano: speaker identification on 40 log-mel
// bands x 100 frames -> 50 speaker logits and the 64-d speaker embedding
// they are computed from (x-vector style: dilated 1-D conv frame layers,
// statistics pooling as mean and max over time, an embedding layer).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {F32_IN("features", 40, 100)};
static const char *const outputs[] = {"logits", "embedding"};
static const gaba_zoo_layer_def layers[] = {
    CONV1D("stem", "features", "s0", 64, 3, 1, 1, 1, NONE),
    BN("stem_bn", "s0", "s", RELU),
    DWCONV1D("dw1", "s", "d1", 64, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    DWCONV1D("dw2", "b1", "d2", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", NONE),
    ADD("res2", "b1", "b2", "r2", RELU),
    DWCONV1D("dw3", "r2", "d3", 64, 5, 1, 8, 4, RELU),
    PWCONV1D("pw3", "d3", "p3", 64, NONE),
    BN("pw3_bn", "p3", "b3", NONE),
    ADD("res3", "r2", "b3", "r3", RELU),
    GAP("mean", "r3", "mu"),
    GMP("max", "r3", "mx"),
    CONCAT2("stats", "mu", "mx", "st"),
    DENSE("embed", "st", "embedding", 64, NONE),
    ACT("embed_act", "embedding", "ea", RELU),
    DENSE("classifier", "ea", "logits", 50, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_speaker_id_nano, "SpeakerIDNano", "audio", "audio",
               "speaker identification", 36000);

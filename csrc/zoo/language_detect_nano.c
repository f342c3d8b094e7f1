// language_detect_nano.c - LanguageDetectNano: language identification of
// 100 byte tokens (vocabulary 256; the seed took float one-hot input) -> 20
// logits. Byte embedding, 1-D CNN with pooling and a dilated separable
// block, global average pooling, two dense layers.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {TOKENS_IN("tokens", 100, 256)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    EMBED("embed", "tokens", "e", 24, 256),
    CONV1D("conv", "e", "c0", 48, 3, 1, 1, 1, NONE),
    BN("conv_bn", "c0", "c", RELU),
    DWCONV1D("dw1", "c", "d1", 48, 5, 1, 2, 1, RELU),
    PWCONV1D("pw1", "d1", "p1", 64, NONE),
    BN("pw1_bn", "p1", "b1", RELU),
    MAXPOOL1D("pool", "b1", "m", 2, 2), // 50
    DWCONV1D("dw2", "m", "d2", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("pw2", "d2", "p2", 64, NONE),
    BN("pw2_bn", "p2", "b2", NONE),
    ADD("res2", "m", "b2", "r2", RELU),
    GAP("gap", "r2", "g"),
    DENSE("fc1", "g", "h", 64, RELU),
    DENSE("fc2", "h", "logits", 20, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_language_detect_nano, "LanguageDetectNano", "audio", "text",
               "language identification", 26000);

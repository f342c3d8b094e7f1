// intent_classify_nano.c - IntentClassifyNano: intent of a 30-byte utterance
// (vocabulary 256) -> 20 logits. Byte embedding, a conv and a residual
// depthwise-separable block, max pooling over time, two dense layers.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {TOKENS_IN("tokens", 30, 256)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    EMBED("embed", "tokens", "e", 32, 256), CONV1D("conv", "e", "c0", 48, 3, 1, 1, 1, NONE),
    BN("conv_bn", "c0", "c", RELU),         DWCONV1D("dw", "c", "d", 48, 3, 1, 1, 1, RELU),
    PWCONV1D("pw", "d", "p", 48, NONE),     BN("pw_bn", "p", "b", NONE),
    ADD("res", "c", "b", "r", RELU),        GMP("pool", "r", "m"),
    DENSE("fc1", "m", "h", 64, RELU),       DENSE("fc2", "h", "logits", 20, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_intent_classify_nano, "IntentClassifyNano", "audio", "text",
               "intent classification", 22000);

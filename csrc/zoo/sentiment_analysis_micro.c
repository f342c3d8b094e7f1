// sentiment_analysis_micro.c - SentimentAnalysisMicro: sentiment of 50 byte
// tokens (vocabulary 256) -> 3 logits. A Kim-style text CNN: a 32-d byte
// embedding, three parallel 1-D convs (kernels 3, 5, 7) each max-pooled
// over time, concatenated, and a two-layer classifier.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {TOKENS_IN("tokens", 50, 256)};
static const char *const outputs[] = {"logits"};
static const gaba_zoo_layer_def layers[] = {
    EMBED("embed", "tokens", "e", 32, 256),
    CONV1D("conv3", "e", "c3", 32, 3, 1, 1, 1, RELU),
    CONV1D("conv5", "e", "c5", 32, 5, 1, 2, 1, RELU),
    CONV1D("conv7", "e", "c7", 32, 7, 1, 3, 1, RELU),
    GMP("pool3", "c3", "m3"),
    GMP("pool5", "c5", "m5"),
    GMP("pool7", "c7", "m7"),
    CONCAT3("cat", "m3", "m5", "m7", "f"),
    DENSE("fc1", "f", "h", 32, RELU),
    DENSE("fc2", "h", "logits", 3, NONE),
};
GABA_ZOO_MODEL(gaba_zoo_sentiment_analysis_micro, "SentimentAnalysisMicro", "audio", "text",
               "sentiment analysis", 28000);

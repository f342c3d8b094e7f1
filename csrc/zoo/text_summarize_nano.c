// text_summarize_nano.c - TextSummarizeNano: extractive scoring of 50 byte
// tokens (vocabulary 256) -> 50 scores in [0, 1] (keep / drop per token).
// Byte embedding, 1-D convs (one dilated), a self-attention block
// (residual, then LayerNorm) for document context, per-token 1x1 layers,
// sigmoid.
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {TOKENS_IN("tokens", 50, 256)};
static const char *const outputs[] = {"scores"};
static const gaba_zoo_layer_def layers[] = {
    EMBED("embed", "tokens", "e", 32, 256),
    CONV1D("conv", "e", "c0", 64, 3, 1, 1, 1, NONE),
    BN("conv_bn", "c0", "c", RELU),
    DWCONV1D("dw", "c", "d", 64, 5, 1, 4, 2, RELU),
    PWCONV1D("pw", "d", "p", 64, NONE),
    BN("pw_bn", "p", "b", NONE),
    ADD("res", "c", "b", "r0", RELU),
    ATTENTION("attn", "r0", "a", 32),
    ADD("attn_res", "r0", "a", "r1", NONE),
    LAYER_NORM("attn_ln", "r1", "r"), // post-norm, as a Transformer block
    PWCONV1D("token_fc", "r", "t", 64, RELU),
    PWCONV1D("score_head", "t", "s", 1, SIGM),
    RESHAPE1("squeeze", "s", "scores", 50),
};
GABA_ZOO_MODEL(gaba_zoo_text_summarize_nano, "TextSummarizeNano", "sensor", "text",
               "extractive summarisation (token scoring)", 36000);

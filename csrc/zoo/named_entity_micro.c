// named_entity_micro.c - NamedEntityMicro: named-entity tagging of 50 byte
// tokens (vocabulary 256) -> 50 x 9 tag logits (BIO tags of 4 entity types
// + O). Byte embedding, local context from 1-D convs, a single-head
// self-attention block (residual, then LayerNorm) for sentence context,
// per-token 1x1 layers, transposed to (token, tag).
#include "zoo_defs.h"

static const gaba_zoo_io_def inputs[] = {TOKENS_IN("tokens", 50, 256)};
static const char *const outputs[] = {"tags"};
static const gaba_zoo_layer_def layers[] = {
    EMBED("embed", "tokens", "e", 32, 256),   CONV1D("conv", "e", "c0", 48, 3, 1, 1, 1, NONE),
    BN("conv_bn", "c0", "c", RELU),           DWCONV1D("dw", "c", "d", 48, 5, 1, 2, 1, RELU),
    PWCONV1D("pw", "d", "p", 64, NONE),       BN("pw_bn", "p", "b", RELU),
    ATTENTION("attn", "b", "a", 32),          ADD("attn_res", "b", "a", "r0", NONE),
    LAYER_NORM("attn_ln", "r0", "r"),         PWCONV1D("token_fc", "r", "t", 48, RELU),
    PWCONV1D("tag_head", "t", "tl", 9, NONE), TRANSPOSE("token_major", "tl", "tags"), // (50, 9)
};
GABA_ZOO_MODEL(gaba_zoo_named_entity_micro, "NamedEntityMicro", "sensor", "text",
               "named-entity recognition", 30000);

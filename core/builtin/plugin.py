"""Entry-point module of the built-in plugin: registration only, no heavy imports."""

import etude


@etude.hookimpl
def plugin_info():
    return {
        "requires_core": ">=0.1",
        "docs": "Reference components: multi-head attention on scaled_dot_product_attention and classic neurons.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "attention",
        "multihead",
        "etude.builtin.attention:MultiHeadAttention",
        summary="Multi-head attention (Vaswani et al. 2017) on fused scaled_dot_product_attention.",
        example={"embed_dim": 16, "num_heads": 4},
    )
    for name, cls, summary in (
        ("relu", "ReLU", "max(0, x)"),
        ("sigmoid", "Sigmoid", "1 / (1 + exp(-x))"),
        ("tanh", "Tanh", "hyperbolic tangent"),
        ("softplus", "Softplus", "log(1 + exp(beta x)) / beta"),
    ):
        registry.add("neuron", name, f"etude.builtin.neurons:{cls}", summary=summary, example={})

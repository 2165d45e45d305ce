"""Components of etude's known paper plugins, for the ``pip install`` hint.

When a user asks for a component that is not installed but belongs to one of
the project's plugins, the error says which distribution to install. This is
a plain table: it imports nothing.
"""

from __future__ import annotations

KNOWN_COMPONENTS: dict[str, str] = {
    "similarity/linear-cka": "cka",
    "similarity/rbf-cka": "cka",
    "similarity/debiased-cka": "cka",
    "estimator/mine": "mine",
    "estimator/mine-f": "mine",
    "estimator/nwj": "mine",
    "estimator/infonce": "mine",
    "task/correlated-gaussians": "mine",
    "augmenter/mixup": "mixupe",
    "augmenter/mixupe": "mixupe",
    "task/mnist1d": "mixupe",
    "task/digits": "mixupe",
    "procedure/crosssplit": "crosssplit",
    "attention/compositional": "compositional-attention",
    "task/contextual-retrieval": "compositional-attention",
    "neuron/gamma": "adaptive-neurons",
    "neuron/adaptive-gamma": "adaptive-neurons",
    "task/sequential-digits": "adaptive-neurons",
    "target/gmm": "diffusion-samplers",
    "target/funnel": "diffusion-samplers",
    "target/manywell": "diffusion-samplers",
    "sampler/tb": "diffusion-samplers",
    "sampler/idem": "idem",
    "sampler/rtb": "rtb",
    "model/corelnet": "corelnet",
    "model/rims": "meta-rims",
    "model/brims": "brims",
}


def install_hint(kind: str, name: str) -> str:
    """``pip install etude-<slug>`` advice when ``kind/name`` is a known component, else ''."""
    slug = KNOWN_COMPONENTS.get(f"{kind}/{name}")
    if slug is None:
        return ""
    return f" '{kind}/{name}' is provided by plugin '{slug}': pip install etude-{slug}."

"""Entry-point module of the built-in plugin: registration only, no heavy imports."""

import etude


@etude.hookimpl
def plugin_info():
    return {
        "requires_core": ">=0.1",
        "docs": "Reference components: multi-head attention on scaled_dot_product_attention, classic neurons, "
        "and the shared data layer (tasks, MLP / CNN, supervised training).",
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
        ("gelu", "GELU", "x Phi(x), the Gaussian error linear unit"),
    ):
        registry.add("neuron", name, f"etude.builtin.neurons:{cls}", summary=summary, example={})
    _register_data(registry)


_TASKS = (
    ("digits", "tabular:Digits", "scikit-learn 8x8 digits: 1797 x 64 features in [0, 1], 10 classes.", {}),
    ("breast-cancer", "tabular:BreastCancer", "scikit-learn breast cancer: 569 x 30 standardised features, 2 classes.", {}),
    ("iris", "tabular:Iris", "Fisher's iris: 150 x 4 standardised features, 3 classes.", {}),
    ("wine", "tabular:Wine", "UCI wine: 178 x 13 standardised features, 3 classes.", {}),
    ("mnist1d", "mnist1d:MNIST1D", "MNIST-1D from the offline generator: 40-dim signals, 10 classes.", {"num_samples": 500}),
    ("gaussian-blobs", "synthetic:GaussianBlobs", "Isotropic Gaussian blobs in d dimensions, one class per blob.", {}),
    ("disk", "synthetic:Disk", "2-D disk toy: uniform points in [-1, 1]^2, inside vs outside a circle; boundary distance.",
     {"num_samples": 100}),
    ("yin-yang", "synthetic:YinYang", "2-D yin-yang toy (lazy vs hasty): two half-planes, each with a dot of the other "
     "class; boundary distance.", {"num_samples": 100}),
    ("sine-regression", "synthetic:SineRegression", "1-D regression of a sum of sines with chosen frequencies.", {}),
    ("mnist", "images:MNIST", "MNIST from the local IDX files (<root>/mnist): 1 x 28 x 28, 10 classes.", {}),
    ("fashion-mnist", "images:FashionMNIST", "Fashion-MNIST from the local IDX files (<root>/fashion-mnist).", {}),
    ("cifar10", "images:CIFAR10", "CIFAR-10 from the local binary batches (<root>/cifar-10-batches-bin).", {}),
    ("copying", "sequence:Copying", "Copying memory task: recall symbols after a delay (per-step classes).",
     {"length": 5, "delay": 10, "num_train": 64, "num_test": 16}),
    ("adding", "sequence:Adding", "Adding problem: the sum of two marked values in a random sequence.",
     {"length": 20, "num_train": 64, "num_test": 16}),
    ("label-noise", "label_noise:LabelNoise", "Any registered classification task with label noise on its train split.",
     {"base": "iris", "label_noise": 0.2}),
)


def _register_data(registry):
    for name, factory, summary, example in _TASKS:
        registry.add("task", name, f"etude.data.{factory}", summary=summary, example=example)
    registry.add(
        "model", "mlp", "etude.data.models:MLP",
        summary="Multilayer perceptron with per-block access; activation by neuron name, dropout.",
        example={"in_features": 40, "out_features": 10, "hidden": [32]},
    )
    registry.add(
        "model", "cnn", "etude.data.models:CNN",
        summary="Small 1-D or 2-D convolutional network (conv blocks, then a linear head).",
        example={"input_shape": [40], "out_features": 10},
    )
    registry.add(
        "model", "resnet18", "etude.data.resnet:ResNet18",
        summary="CIFAR ResNet-18 (3x3 stem, no max-pool, BasicBlocks [2,2,2,2], widths 64-512); BatchNorm or none.",
        example={"input_shape": [3, 32, 32], "out_features": 10, "width": 4},
    )
    registry.add(
        "procedure", "supervised", "etude.data.supervised:SupervisedTraining",
        summary="Minibatch training of any model with any augmenter by name; callbacks, checkpoints.",
        example={"augmenter": "none", "epochs": 1, "hidden": [16]},
    )

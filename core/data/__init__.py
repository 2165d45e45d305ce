"""The shared data layer: tasks, label noise, local-folder readers, models and the supervised loop.

Everything here is registered by the built-in plugin (``task/digits``,
``model/mlp``, ``procedure/supervised``, ...); papers build on it instead
of loading data or writing training loops of their own. See the "Data"
page of the documentation for every task's shapes, sizes and source.

Examples:
    >>> from etude.data import Digits, SupervisedTraining
    >>> result = SupervisedTraining(epochs=1, hidden=(16,)).run(Digits(label_noise=0.1), seed=0)
    >>> sorted(result.metrics)[:3]
    ['final_loss', 'memorized_fraction', 'test_accuracy']
"""

from etude.lazy import lazy_exports

from .errors import DataFormatError, DataNotFoundError

_EXPORTS = {
    "ClassificationTask": "base",
    "stratified_split": "base",
    "Callback": "callbacks",
    "PerExampleLoss": "callbacks",
    "TrainState": "callbacks",
    "CIFAR10": "images",
    "FashionMNIST": "images",
    "MNIST": "images",
    "LabelNoise": "label_noise",
    "asymmetric_map": "label_noise",
    "inject_label_noise": "label_noise",
    "MNIST1D": "mnist1d",
    "CNN": "models",
    "MLP": "models",
    "NeuronActivation": "models",
    "ResNet18": "resnet",
    "data_root": "readers",
    "read_cifar10_batch": "readers",
    "read_idx": "readers",
    "write_cifar10_batch": "readers",
    "write_idx": "readers",
    "Adding": "sequence",
    "Copying": "sequence",
    "SupervisedTraining": "supervised",
    "accuracy": "evaluation",
    "as_positions": "evaluation",
    "predict": "evaluation",
    "Disk": "synthetic",
    "GaussianBlobs": "synthetic",
    "SineRegression": "synthetic",
    "YinYang": "synthetic",
    "BreastCancer": "tabular",
    "Digits": "tabular",
    "Iris": "tabular",
    "Wine": "tabular",
}

__all__ = sorted([*_EXPORTS, "DataFormatError", "DataNotFoundError"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

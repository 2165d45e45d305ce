"""etude plugin: structural causal models, after Schölkopf et al., "Toward Causal Representation Learning".

B. Schölkopf, F. Locatello, S. Bauer, N. R. Ke, N. Kalchbrenner, A. Goyal,
Y. Bengio. Proceedings of the IEEE, 2021. arXiv:2102.11107.

The library the causal plugins build on (meta-transfer, causal-mbrl):

- graphs: :class:`CausalGraph`, :func:`random_dag`, :func:`skeleton`, :func:`parse_edges`;
- mechanisms ``X_i := f_i(PA_i, U_i)``: :class:`LinearGaussian`, :class:`AdditiveNoise`,
  :class:`CategoricalTable`, :class:`CategoricalMLP`, :class:`CubicSpline`;
- :class:`SCM`: ``sample``, the Pyro program ``model``, ``do``, ``replace_mechanism``,
  ``shift_noise``, ``log_prob`` (truncated factorisation), ``update``, ``counterfactual``, ``fit_mle``;
- :func:`sparse_mechanism_shift`; closed forms of linear-Gaussian SCMs (:func:`implied_gaussian`, ...);
- ready-made random SCMs (:class:`LinearGaussianSCM`, :class:`CategoricalSCM`, :class:`SplineSCM`,
  :class:`CategoricalMLPSCM` and their ``create_*`` functions) and the task :class:`SCMShiftTask`.

This list is the stable public API; names not in ``__all__`` are internal.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "CausalGraph": "graphs",
    "GraphError": "graphs",
    "SKELETON_FAMILIES": "graphs",
    "expected_random_dag_edges": "graphs",
    "parse_edges": "graphs",
    "random_dag": "graphs",
    "skeleton": "graphs",
    "AdditiveNoise": "mechanisms",
    "CategoricalMLP": "mechanisms",
    "CategoricalTable": "mechanisms",
    "CounterfactualError": "mechanisms",
    "CubicSpline": "mechanisms",
    "LinearGaussian": "mechanisms",
    "Mechanism": "mechanisms",
    "not_a_knot_spline": "mechanisms",
    "uniform_noise": "mechanisms",
    "SCM": "scm",
    "sparse_mechanism_shift": "shift",
    "conditional_gaussian": "linear",
    "expected_conditional_kl": "linear",
    "gaussian_kl": "linear",
    "implied_gaussian": "linear",
    "linear_gaussian_parameters": "linear",
    "CategoricalMLPSCM": "models",
    "CategoricalMLPSCMConfig": "models",
    "CategoricalSCM": "models",
    "CategoricalSCMConfig": "models",
    "LinearGaussianSCM": "models",
    "LinearGaussianSCMConfig": "models",
    "SplineSCM": "models",
    "SplineSCMConfig": "models",
    "create_categorical_mlp_scm": "models",
    "create_categorical_scm": "models",
    "create_linear_gaussian_scm": "models",
    "create_spline_scm": "models",
    "resolve_graph": "models",
    "SCMShiftTask": "tasks",
    "SCMShiftTaskConfig": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

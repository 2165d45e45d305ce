"""procedure/world-model-training: conformance, the losses, planning, and every claim at smoke scale."""

import pytest
import torch

import etude
from etude.claims import run_claim
from etude.testing.conformance import ProcedureConformance

from etude_causal_mbrl import ChemistryTransitions, PhysicsTransitions, contrastive_loss, energy
from etude_causal_mbrl.training import WorldModelTraining

_OPTS = {"hidden": 16, "embedding_dim": 2, "encoder_hidden": 8}


def _task(**kw):
    base = dict(num_objects=3, graph="chain3", cell_size=4, deterministic=True, train_episodes=6, train_length=4,
                test_episodes=12, test_length=5, seed=0)
    return ChemistryTransitions(**{**base, **kw})


class TestWorldModelTraining(ProcedureConformance):
    component = ("procedure", "world-model-training")

    def make_procedure(self):
        return self.create(epochs=2, batch_size=8, eval_steps=(1, 5), model_options=_OPTS)

    def make_task(self):
        return _task()


def test_energy_and_contrastive_loss_formulas():
    g = torch.Generator().manual_seed(0)
    z, pred, nxt = (torch.randn(6, 3, 2, generator=g) for _ in range(3))
    perm = torch.tensor([1, 2, 3, 4, 5, 0])
    sigma, hinge = 0.5, 1.0
    e = ((pred - nxt) ** 2).sum(-1).mean(-1) / (2 * sigma**2)
    torch.testing.assert_close(energy(pred, nxt, sigma), e)
    neg = torch.clamp(hinge - ((z[perm] - z) ** 2).sum(-1).mean(-1) / (2 * sigma**2), min=0)
    torch.testing.assert_close(contrastive_loss(z, pred, nxt, perm, sigma, hinge), (e + neg).mean())


@pytest.mark.parametrize("model", ["world-model-ae", "world-model-vae", "world-model-gnn"])
def test_nll_training_of_every_family_runs_and_lowers_the_loss(model):
    proc = WorldModelTraining(model=model, loss="nll", epochs=4, batch_size=8, eval_steps=(1,), model_options=_OPTS,
                              lr=1e-2)
    result = proc.run(_task(), seed=0)
    loss = result.history["train_loss"]
    assert loss[-1] < loss[0] and "decoder" in result.models
    assert 0.0 <= result.metrics["hits_at_1_1"] <= 1.0


def test_contrastive_training_beats_an_untrained_model():
    task = _task(num_objects=5, graph="full5", deterministic=False, train_episodes=40, train_length=10,
                 test_episodes=40, test_length=1)
    opts = {"hidden": 64, "embedding_dim": 4, "encoder_hidden": 32}
    trained = WorldModelTraining(epochs=10, batch_size=32, eval_steps=(1,), model_options=opts, lr=3e-3)
    untrained = WorldModelTraining(epochs=1, batch_size=32, eval_steps=(1,), model_options=opts, lr=1e-12)
    assert trained.run(task, seed=0).metrics["mrr_1"] > untrained.run(task, seed=0).metrics["mrr_1"] + 0.1


def test_reward_predictor_and_planning_on_both_environments():
    proc = WorldModelTraining(epochs=1, batch_size=8, eval_steps=(1,), model_options=_OPTS, reward_epochs=1,
                              planning_episodes=4, planning_steps=(1, 2), reward_hidden=8)
    metrics = proc.run(_task(), seed=0).metrics
    assert {"reward_mse", "success_1", "success_2"} <= set(metrics)
    phys = PhysicsTransitions(num_objects=3, cell_size=4, train_episodes=4, train_length=4, test_episodes=6,
                              test_length=2)
    metrics = proc.run(phys, seed=0).metrics
    assert 0.0 <= metrics["success_2"] <= 1.0


def test_errors_name_the_problem():
    with pytest.raises(etude.config.ConfigError, match="reward_epochs"):
        WorldModelTraining(planning_episodes=3)
    with pytest.raises(ValueError, match="eval_steps"):
        WorldModelTraining(epochs=1, eval_steps=(9,), model_options=_OPTS).run(_task(test_length=2), seed=0)
    with pytest.raises(TypeError, match="transitions task"):
        WorldModelTraining(epochs=1).run(etude.create("task", "iris"), seed=0)


# -- claims at smoke scale ----------------------------------------------------------------------------
@pytest.mark.parametrize("claim_id", ["causal-mbrl/larger-graphs-harder", "causal-mbrl/more-parents-harder",
                                      "causal-mbrl/modularity-helps", "causal-mbrl/contrastive-long-horizon"])
def test_claims_run_at_smoke(claim_id, tmp_path):
    outcome = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert outcome.holds is None and outcome.metrics and outcome.notes.startswith("smoke scale")


@pytest.mark.gpu
def test_training_rendering_and_planning_on_cuda():
    proc = WorldModelTraining(epochs=1, batch_size=8, eval_steps=(1,), model_options=_OPTS, reward_epochs=1,
                              planning_episodes=4, planning_steps=(1,), reward_hidden=8, image_budget=1)
    result = proc.run(_task(), seed=0, device="cuda")
    assert next(result.models["world_model"].parameters()).device.type == "cuda"
    assert 0.0 <= result.metrics["success_1"] <= 1.0

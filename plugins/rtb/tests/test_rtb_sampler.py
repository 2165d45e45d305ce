"""Sampler conformance for every sampler/ entry of the plugin, and the plugin's registration."""

import torch

from etude.testing.conformance import SamplerConformance
from etude_rtb.rewards import SigmoidQuadrantReward

SMALL = {"n_steps": 5, "batch_size": 16, "hidden_dim": 16, "harmonics": 8}


class TestRTB(SamplerConformance):
    component = ("sampler", "rtb")

    def make_sampler(self):
        return self.create(**SMALL)

    def make_target(self):
        return SigmoidQuadrantReward()


class TestRTBVarGrad(TestRTB):
    component = ("sampler", "rtb-vargrad")


class TestRLFinetune(TestRTB):
    component = ("sampler", "rl-finetune")


class TestRLKLFinetune(TestRTB):
    component = ("sampler", "rl-kl-finetune")


class TestGuidance(SamplerConformance):
    component = ("sampler", "guidance")

    def make_sampler(self):
        return self.create(n_steps=5)

    def make_target(self):
        return SigmoidQuadrantReward()


def test_log_z_estimates_and_likelihood_reward():
    import pyro.distributions as dist

    from etude_rtb.rewards import LikelihoodReward
    from etude_rtb.sampler import RelativeTrajectoryBalance

    r = LikelihoodReward(lambda x: dist.Normal(x, 1.0).to_event(1), torch.tensor([0.5, 0.5]), dim=2)
    s = RelativeTrajectoryBalance(**SMALL).fit(r, steps=2)
    z = s.log_Z(64, generator=torch.Generator().manual_seed(0))
    assert set(z) == {"iw", "elbo", "learned"} and z["iw"] >= z["elbo"]

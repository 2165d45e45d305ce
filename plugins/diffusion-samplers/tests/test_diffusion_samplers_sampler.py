"""Sampler conformance for every registered configuration, config errors, training behaviour, GPU."""

import pytest
import torch

import etude
from etude.testing.conformance import SamplerConformance
from etude_diffusion_samplers.targets import GMM, Gaussian


class _Base(SamplerConformance):
    fit_steps = 3

    def make_sampler(self):
        spec = etude.get_registry().get(*self.component) if hasattr(etude, "get_registry") else None
        example = dict(spec.metadata.get("example", {})) if spec is not None else {}
        return self.create(**example)

    def make_target(self):
        return GMM(layout="grid9")


class TestDiffusion(_Base):
    component = ("sampler", "diffusion")


class TestTB(_Base):
    component = ("sampler", "tb")


class TestTBExpl(_Base):
    component = ("sampler", "tb-expl")


class TestTBExplLS(_Base):
    component = ("sampler", "tb-expl-ls")


class TestTBExplLP(_Base):
    component = ("sampler", "tb-expl-lp")


class TestTBExplLPLS(_Base):
    component = ("sampler", "tb-expl-lp-ls")


class TestPIS(_Base):
    component = ("sampler", "pis")


class TestPISLP(_Base):
    component = ("sampler", "pis-lp")


class TestVarGradExpl(_Base):
    component = ("sampler", "vargrad-expl")


class TestVarGradExplLPLS(_Base):
    component = ("sampler", "vargrad-expl-lp-ls")


class TestFLSubTB(_Base):
    component = ("sampler", "fl-subtb")


class TestFLSubTBLP(_Base):
    component = ("sampler", "fl-subtb-lp")


class TestNUTS(_Base):
    component = ("sampler", "nuts")

    def make_target(self):
        return Gaussian(dim=2)


def small(name, **kw):
    cfg = {"n_steps": 5, "batch_size": 32, "hidden_dim": 16, "s_emb_dim": 16, "t_emb_dim": 16, "harmonics": 8}
    cfg.update(kw)
    return etude.create("sampler", name, **cfg)


def test_configs_set_the_paper_rows():
    assert small("tb-expl-ls").config.local_search and small("tb-expl-ls").config.exploration == 0.2
    assert small("pis").config.objective == "pis"
    assert small("fl-subtb").config.objective == "subtb" and small("fl-subtb").config.lr_log_z == 1e-2
    assert small("vargrad-expl-lp-ls").config.langevin


def test_config_errors_are_clear():
    with pytest.raises(etude.ConfigError, match="local_search"):
        small("pis", local_search=True)
    with pytest.raises(etude.ConfigError, match="mala_burn_in"):
        small("tb-expl-ls", mala_steps=5, mala_burn_in=5)
    with pytest.raises(etude.ConfigError, match="objective"):
        small("diffusion", objective="kl")


def test_sample_before_fit_and_bad_n():
    s = small("tb")
    with pytest.raises(RuntimeError, match="fit"):
        s.sample(3)
    s.fit(Gaussian(dim=2), steps=1)
    with pytest.raises(ValueError, match="n must be"):
        s.sample(0)


def test_log_z_estimates_and_local_search_buffers():
    target = GMM(layout="grid9")
    s = small("tb-expl-ls", mala_steps=6, mala_burn_in=2, ls_every=2).fit(target, steps=6)
    assert len(s.buffer) == 3 * 32 and len(s.ls_buffer) > 0
    est = s.log_Z(200, generator=torch.Generator().manual_seed(0))
    assert set(est) == {"elbo", "iw", "learned"} and est["iw"] >= est["elbo"]
    assert "learned" in small("fl-subtb").fit(target, steps=2).log_Z(50)
    assert "learned" not in small("vargrad-expl").fit(target, steps=2).log_Z(50)


def test_tb_learns_a_gaussian_log_z():
    torch.manual_seed(0)
    target = Gaussian(dim=2, std=1.0, mean=1.0, log_Z=2.0)
    s = small("tb", t_scale=1.0, batch_size=64).fit(target, steps=150)
    ev = s.evaluate(1000, generator=torch.Generator().manual_seed(0))
    assert ev["delta_log_z"] < 0.2 and ev["delta_log_z_rw"] < 0.05
    assert abs(s.log_Z(500)["learned"] - 2.0) < 0.3


def test_nuts_counts_energy_calls():
    target = Gaussian(dim=2)
    s = etude.create("sampler", "nuts", num_samples=20, warmup_steps=20, num_chains=2)
    s.fit(target)
    assert s.energy_calls > 80 and s.samples.shape == (40, 2)


@pytest.mark.gpu
def test_sampler_on_cuda():
    target = GMM(layout="grid9").to("cuda")
    s = small("tb-expl-lp-ls", mala_steps=4, mala_burn_in=2, ls_every=2).to("cuda")
    s.fit(target, steps=4)
    x = s.sample(16)
    assert x.device.type == "cuda" and torch.isfinite(x).all()
    assert set(s.log_Z(32)) >= {"elbo", "iw"}

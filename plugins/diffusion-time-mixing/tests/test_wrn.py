"""The WRN encoder and the U-Net score network: shapes, time dependence, the batched trajectory, DRL with encoder='wrn'."""

from __future__ import annotations

import pytest
import torch

from etude.config import ConfigError
from etude_diffusion_time_mixing.drl import DRL, time_grid
from etude_diffusion_time_mixing.sde import VESDE
from etude_diffusion_time_mixing.unet import ScoreUNet
from etude_diffusion_time_mixing.wrn import WRNEncoder

X = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def _wrn(**kw):
    torch.manual_seed(0)
    return WRNEncoder(latent_dim=kw.pop("latent_dim", 8), depth=10, widen_factor=1, **kw).eval()


def test_wrn_shapes_depth_and_time_dependence():
    enc = _wrn()
    mean, log_var = enc(X, torch.full((3,), 0.2))
    assert mean.shape == log_var.shape == (3, 8) and torch.isfinite(mean).all()
    assert len(enc.blocks) == 3 and enc.features == 64  # n = (10 - 4) / 6 = 1 block per stage, 64 w features
    assert len(WRNEncoder(latent_dim=128, depth=28, widen_factor=2).blocks) == 12
    other = enc(X, torch.full((3,), 0.8))[0]
    assert (mean - other).abs().max() > 1e-4  # t changes the representation (the per-block bias)
    det, none = _wrn(latent_dim=64, probabilistic=False)(X, torch.full((3,), 0.2))
    assert det.shape == (3, 64) and none is None  # deterministic: the pooled 64 w features (official)
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WRNEncoder(latent_dim=8, depth=12)
    with pytest.raises(ValueError, match="images"):
        enc(X.flatten(1), torch.zeros(3))


def test_wrn_batched_trajectory_equals_a_loop_over_t():
    enc = _wrn()
    times = time_grid(4)
    with torch.no_grad():
        mean, log_var = enc.trajectory(X, times)
        loop = torch.stack([enc(X, t.expand(3))[0] for t in times], 1)
    assert mean.shape == (3, 5, 8) and log_var.shape == (3, 5, 8)
    torch.testing.assert_close(mean, loop, rtol=1e-5, atol=1e-5)


def test_unet_shapes_time_and_latent_dependence():
    torch.manual_seed(0)
    net = ScoreUNet(latent_dim=4, sde=VESDE(0.01, 50.0), channels=8, dropout=0.0)
    torch.nn.init.normal_(net.conv_out.weight, std=0.1)  # it starts at zero; make the output depend on the input
    xt, z, t = torch.randn(2, 3, 32, 32), torch.randn(2, 4), torch.full((2,), 0.3)
    out = net(xt, t, z)
    assert out.shape == xt.shape
    assert (out - net(xt, t, z + 1.0)).abs().max() > 1e-5  # z enters through the embedding
    unscaled = out * net.sde.sigma(t).reshape(-1, 1, 1, 1)
    assert (unscaled - net(xt, torch.full((2,), 0.6), z) * net.sde.sigma(torch.full((2,), 0.6))[0]).abs().max() > 1e-5
    with pytest.raises(ValueError, match="divisible"):
        net(torch.randn(2, 3, 30, 30), t, z)


def test_drl_wrn_fits_estimates_and_checks_its_config():
    torch.manual_seed(0)
    drl = DRL(in_features=3072, encoder="wrn", image_shape=(3, 32, 32), wrn_depth=10, widen_factor=1, latent_dim=8,
              unet_channels=8, unet_ch_mult=(1, 2), batch_size=4, steps=2, warmup_steps=4, grad_clip=1.0)
    drl.fit(X.flatten(1), seed=0)  # flat inputs are reshaped to image_shape
    assert len(drl.history) == 2 and drl._optimiser.param_groups[0]["lr"] == pytest.approx(2e-4 * 2 / 4)
    z = drl.estimate(X, time_grid(3), batch_size=5)  # chunks of one example (4 times)
    assert z.shape == (3, 4, 8)
    torch.testing.assert_close(z[:, 1], drl.encode(X, 1 / 3), rtol=1e-5, atol=1e-5)
    with pytest.raises(ConfigError, match="image_shape"):
        DRL(in_features=3072, encoder="wrn")
    with pytest.raises(ConfigError, match="image_shape"):
        DRL(in_features=100, encoder="wrn", image_shape=(3, 32, 32))
    with pytest.raises(ConfigError, match="grad_clip"):
        DRL(in_features=4, grad_clip=0.0)


def test_warmup_and_clip_defaults_leave_the_mlp_fit_unchanged():
    torch.manual_seed(0)
    a = DRL(in_features=6, latent_dim=3, width=16, steps=4, batch_size=8)
    torch.manual_seed(0)
    b = DRL(in_features=6, latent_dim=3, width=16, steps=4, batch_size=8, warmup_steps=0, grad_clip=None)
    x = torch.randn(20, 6, generator=torch.Generator().manual_seed(1))
    assert a.fit(x, seed=0).history == b.fit(x, seed=0).history
    torch.manual_seed(0)
    clipped = DRL(in_features=6, latent_dim=3, width=16, steps=4, batch_size=8, grad_clip=1e-3).fit(x, seed=0)
    assert clipped.history[0] == a.history[0] and clipped.history[-1] != a.history[-1]

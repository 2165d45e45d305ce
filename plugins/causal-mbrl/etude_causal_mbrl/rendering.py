"""Headless, batched rendering of the CausalMBRL grid worlds: one shape mask per object, a palette colour per cell.

Each object ``i`` is drawn as a fixed shape in its grid cell (circle,
triangle, square, diamond, pentagon, cross, parallelogram, scalene triangle,
then square and diamond again for objects 8 and 9, as the reference's
``render_shapes``). A shape mask is computed once per cell size with
matplotlib's ``Path.contains_points`` at pixel centres (the reference used
``skimage.draw.polygon`` / ``circle``); an image is then ``mask x colour``
per cell, written for a whole batch of states in one indexed assignment,
with no figure, pygame or OpenGL.

References:
    N. R. Ke, A. Didolkar, S. Mittal, A. Goyal, G. Lajoie, S. Bauer, D. Rezende,
    Y. Bengio, M. Mozer, C. Pal. "Systematic Evaluation of Causal Discovery in
    Visual Model Based Reinforcement Learning". NeurIPS 2021 Datasets and
    Benchmarks. arXiv:2107.00848 (Sec. 3, the environments).

Example:
    >>> import torch
    >>> colours = palette(5)
    >>> img = render(torch.tensor([[[0, 0], [2, 2]]]), colours[torch.tensor([[1, 3]])], torch.tensor([0, 1]), cell=10)
    >>> img.shape
    torch.Size([1, 3, 50, 50])
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

__all__ = ["SHAPES", "decode_colours", "palette", "render", "shape_masks"]

#: Shape drawn for object index i (the reference's order; 8 and 9 repeat square and diamond).
SHAPES = ("circle", "triangle", "square", "diamond", "pentagon", "cross", "parallelogram", "scalene-triangle",
          "square", "diamond")


def _polygon(name: str, w: int) -> list[tuple[float, float]]:
    """Vertices (row, col) of the reference's polygon of width ``w`` at the cell origin."""
    h = w // 2
    if name == "square":
        return [(0, 0), (w, 0), (w, w), (0, w)]
    if name == "triangle":
        return [(0, h), (w, 0), (w, w)]
    if name == "diamond":
        return [(0, h), (h, 0), (w, h), (h, w)]
    if name == "pentagon":
        d1, d2 = w // 3 - 1, 2 * w // 3 + 1
        return [(h, 0), (w, d1), (w, d2), (h, w), (0, h)]
    if name == "cross":
        d1, d2 = w // 3 + 1, 2 * w // 3
        rr = [d1, d2, d2, w, w, d2, d2, d1, d1, 0, 0, d1]
        cc = [0, 0, d1, d1, d2, d2, w, w, d2, d2, d1, d1]
        return list(zip(rr, cc))
    if name == "parallelogram":
        return [(0, 0), (w, h), (w, w), (0, w - h)]
    if name == "scalene-triangle":
        return [(0, w - h), (w, 0), (h, w)]
    raise ValueError(f"unknown shape {name!r}; shapes are {sorted(set(SHAPES))}")


@functools.lru_cache(maxsize=32)
def _masks_numpy(cell: int) -> np.ndarray:
    from matplotlib.path import Path  # noqa: PLC0415

    r, c = np.meshgrid(np.arange(cell), np.arange(cell), indexing="ij")
    centres = np.stack([r.ravel(), c.ravel()], axis=1).astype(float)
    out = []
    for name in SHAPES:
        if name == "circle":
            m = ((r + 0.5 - cell / 2) ** 2 + (c + 0.5 - cell / 2) ** 2) < (cell / 2) ** 2
        else:
            path = Path(np.asarray(_polygon(name, cell - 1), dtype=float) if cell > 1 else [(0, 0)] * 3)
            m = path.contains_points(centres, radius=1e-9).reshape(cell, cell)
            m |= Path(path.vertices).contains_points(centres, radius=-1e-9).reshape(cell, cell)
        if not m.any():  # tiny cells: at least the centre pixel
            m = np.zeros((cell, cell), bool)
            m[cell // 2, cell // 2] = True
        out.append(m)
    return np.stack(out)


def shape_masks(cell: int) -> Tensor:
    """``(10, cell, cell)`` bool masks, one per object index (see :data:`SHAPES`); cached per cell size."""
    if isinstance(cell, bool) or not isinstance(cell, int) or cell < 1:
        raise ValueError(f"'cell' must be an integer >= 1 (pixels per grid cell), got {cell!r}")
    return torch.from_numpy(_masks_numpy(cell).copy())


@functools.lru_cache(maxsize=64)
def _palette_numpy(num_colours: int, cmap: str) -> np.ndarray:
    import matplotlib  # noqa: PLC0415

    cm = matplotlib.colormaps[cmap]
    if num_colours == 1:
        return np.asarray([cm(0.0)[:3]], dtype=np.float32)
    return np.asarray([cm(x)[:3] for x in np.linspace(1.0, 0.0, num_colours)], dtype=np.float32)


def palette(num_colours: int, cmap: str = "Set1") -> Tensor:
    """``(C, 3)`` float32 RGB colours: ``cmap`` at ``(C - 1 - k) / (C - 1)`` (the reference without its jitter)."""
    if isinstance(num_colours, bool) or not isinstance(num_colours, int) or num_colours < 1:
        raise ValueError(f"'num_colours' must be an integer >= 1, got {num_colours!r}")
    return torch.from_numpy(_palette_numpy(num_colours, cmap).copy())


def render(positions: Tensor, rgb: Tensor, shapes: Tensor, *, cell: int, grid: int = 5) -> Tensor:
    """Images ``(B, 3, grid * cell, grid * cell)`` of ``B`` states, float32 in [0, 1].

    Args:
        positions: ``(B, N, 2)`` int (row, column) cells, distinct within a state.
        rgb: ``(B, N, 3)`` float colour of each object.
        shapes: ``(N,)`` or ``(B, N)`` int shape index of each object (into :data:`SHAPES`).
        cell: pixels per cell; ``grid``: cells per side.
    """
    if positions.ndim != 3 or positions.shape[-1] != 2:
        raise ValueError(f"'positions' must be (B, N, 2) cells, got shape {tuple(positions.shape)}")
    b, n, _ = positions.shape
    if rgb.shape != (b, n, 3):
        raise ValueError(f"'rgb' must be (B, N, 3) = {(b, n, 3)}, got {tuple(rgb.shape)}")
    device = rgb.device
    masks = shape_masks(cell).to(device=device, dtype=torch.float32)
    shapes = shapes.to(device).long()
    if shapes.ndim == 1:
        shapes = shapes.expand(b, n)
    tiles = masks[shapes].unsqueeze(2) * rgb.float().unsqueeze(-1).unsqueeze(-1)  # (B, N, 3, cell, cell)
    # written in place into the image layout (B, 3, row, y, column, x): no permuted copy
    canvas = torch.zeros(b, 3, grid, cell, grid, cell, dtype=torch.float32, device=device)
    pos = positions.long().to(device)
    rows = torch.arange(b, device=device).unsqueeze(1).expand(b, n)
    canvas[rows, :, pos[..., 0], :, pos[..., 1], :] = tiles
    return canvas.reshape(b, 3, grid * cell, grid * cell)


def decode_colours(images: Tensor, positions: Tensor, colours: Tensor, shapes: Tensor, *, cell: int,
                   grid: int = 5) -> Tensor:
    """Invert :func:`render`: each object's nearest palette colour (``(C, 3)``) on its mask, ``(B, N)`` int64."""
    b, n, _ = positions.shape
    masks = shape_masks(cell).to(images.device)
    shapes = shapes.long().expand(b, n) if shapes.ndim == 1 else shapes.long()
    cells = images.reshape(b, 3, grid, cell, grid, cell).permute(0, 2, 4, 1, 3, 5).reshape(b, grid * grid, 3, cell, cell)
    flat = (positions[..., 0] * grid + positions[..., 1]).long()
    picked = cells[torch.arange(b).unsqueeze(1), flat]  # (B, N, 3, cell, cell)
    m = masks[shapes].unsqueeze(2).float()
    mean = (picked * m).sum((-1, -2)) / m.sum((-1, -2)).clamp_min(1)
    return torch.cdist(mean.reshape(b * n, 3), colours.to(mean)).argmin(-1).reshape(b, n)

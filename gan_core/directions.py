"""Interpretable latent directions by PCA (Haerkoenen et al. 2020, GANSpace).

StyleGAN2: sample many z, map them to w (no truncation) and take the principal
components of those w (GANSpace section 2.2). An edit moves the styles of the
chosen layers only, ``w' = w + alpha * sigma_i * v_i`` where ``v_i`` is the unit
component and ``sigma_i`` the standard deviation of the sampled w along it, so
alpha counts standard deviations; the other layers keep the original w (the
paper's layer-wise edits, with the coarse / middle / fine groups of style
mixing, ``sampling_advanced.resolve_layers``).

Other generators have no W and their z is isotropic, so PCA of z itself says
nothing. As GANSpace does for BigGAN, we take the PCA of an early feature
layer (the output of the generator's first linear or convolution layer) and
carry it back to z by least squares: the feature coordinates X = (y - mu) V
of the samples are regressed onto their z, ``z ~ X B``, and row i of B is the
z-direction of feature component i. Two simplifications, both ours: the rows
are then orthonormalized in order (Gram-Schmidt by QR), so the first one keeps
its direction and every later one loses what it shares with the earlier ones;
and their explained variance is the feature layer's, not z's. ``sigma_i`` is
the standard deviation of the samples' z along the direction (about 1). At
most FEATURE_SAMPLES draws are used there (a 64 px DCGAN's first layer has
8,192 features).

``directions_for`` caches the result beside the checkpoint, keyed by a digest
of the file, so a second ask is a file read.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gan_core import sampling_advanced as adv

DEFAULT_K = 20
DEFAULT_SAMPLES = 10_000
FEATURE_SAMPLES = 4_000
MAX_ALPHA = 10.0  # in standard deviations along the component
CHUNK = 1_000  # samples per forward pass while collecting
CACHE_DIR = "directions"  # beside the checkpoint: never matched as step_*.pt
# Files kept in one CACHE_DIR, newest first: a trainer rewriting latest.pt makes
# a new digest every checkpoint, so each visit of a live job would add one.
MAX_CACHED = 32
FORMAT = 1


@dataclass
class Directions:
    """Principal directions of one generator's latent space.

    components: [k, d] unit rows, orthonormal, in order of explained variance.
    sigma: [k] standard deviation of the samples along each component.
    explained: [k] fraction of the variance each explains (descending).
    """

    space: str  # "w" (StyleGAN2) or "z"
    components: torch.Tensor
    sigma: torch.Tensor
    explained: torch.Tensor
    mean: torch.Tensor  # [d] mean of the samples (w) or of z (about 0)
    feature: str  # what the PCA ran on: "w" or "z via <layer>"
    samples: int
    seed: int

    @property
    def k(self) -> int:
        return int(self.components.shape[0])

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "space": self.space,
            "components": self.components.contiguous(),
            "sigma": self.sigma,
            "explained": self.explained,
            "mean": self.mean,
            "feature": self.feature,
            "samples": self.samples,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Directions:
        fields = ("space", "components", "sigma", "explained", "mean", "feature")
        return cls(**{f: data[f] for f in fields}, samples=int(data["samples"]),
                   seed=int(data["seed"]))  # fmt: skip

    def first(self, k: int) -> Directions:
        """The first k components."""
        return Directions(
            self.space,
            self.components[:k],
            self.sigma[:k],
            self.explained[:k],
            self.mean,
            self.feature,
            self.samples,
            self.seed,
        )

    def save(self, path: Path) -> Path:
        """Write as plain tensors (atomic rename), loadable with weights_only."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(self.to_dict(), tmp)
        tmp.replace(path)
        return path


def load_directions(path: Path) -> Directions:
    """Directions saved by ``Directions.save``; ValueError for anything else."""
    try:
        data = torch.load(Path(path), map_location="cpu", weights_only=True)
        return Directions.from_dict(data)
    except (OSError, KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a directions file ({exc})") from exc


def _check_latent_model(handle) -> None:
    if adv.is_translator(handle):
        raise adv.UnsupportedSampling(
            f"{handle.family} translates images and has no latent space: "
            "no directions to find"
        )
    if handle.kind == "points":
        raise adv.UnsupportedSampling(f"{handle.family} draws points: no directions")


def _sample_labels(handle, n: int) -> torch.Tensor | None:
    if not handle.conditional:
        return None
    return (torch.arange(n) % len(handle.class_names)).to(handle.device)


def _first_layer(net: nn.Module) -> tuple[str, nn.Module]:
    """The generator's first linear or convolution layer (an early feature)."""
    kinds = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
    for name, module in net.named_modules():
        if isinstance(module, kinds):
            return name, module
    for name, module in net.named_modules():  # e.g. equalized-lr layers
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
            if not isinstance(module, nn.Embedding):
                return name, module
    raise adv.UnsupportedSampling("the generator has no layer to take features from")


class _Caught(Exception):
    """Raised by the feature hook to stop the forward pass early."""


@torch.no_grad()
def _collect(handle, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(z [n, z_dim], features [n, d], what the features are) of n seeded draws."""
    z_all = torch.randn(n, handle.z_dim, generator=torch.Generator().manual_seed(seed))
    labels_all = _sample_labels(handle, n)
    feats = []
    if adv.is_style(handle):
        for start in range(0, n, CHUNK):
            z = z_all[start : start + CHUNK].to(handle.device)
            c = None if labels_all is None else labels_all[start : start + CHUNK]
            feats.append(handle.net.mapping(z, c)[:, 0].float().cpu())
        return z_all, torch.cat(feats), "w"
    name, layer = _first_layer(handle.net)
    caught = []

    def catch(_module, _inputs, out):
        caught.append(out.flatten(1).float().cpu())
        raise _Caught  # the rest of the generator is not needed

    hook = layer.register_forward_hook(catch)
    try:
        for start in range(0, n, CHUNK):
            z = z_all[start : start + CHUNK].to(handle.device)
            c = None if labels_all is None else labels_all[start : start + CHUNK]
            try:
                handle.generate(handle.net, z, c)
            except _Caught:
                pass
    finally:
        hook.remove()
    if len(caught) != len(range(0, n, CHUNK)):
        raise adv.UnsupportedSampling(f"{name} did not run once per batch")
    return z_all, torch.cat(caught), f"z via {name}"


def _pca(x: torch.Tensor, k: int, seed: int):
    """(mean [d], unit components [k, d], variances [k], total variance)."""
    mean = x.mean(0)
    centred = x - mean
    n, d = centred.shape
    total = centred.pow(2).sum() / max(n - 1, 1)
    k = min(k, n, d)
    if d <= 1024:
        _, s, vh = torch.linalg.svd(centred, full_matrices=False)
        s, vh = s[:k], vh[:k]
    else:  # a randomized low-rank SVD; its own seeded draw
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _, s, v = torch.pca_lowrank(centred, q=min(k + 10, n, d), center=False)
        s, vh = s[:k], v[:, :k].T
    return mean, vh, s.pow(2) / max(n - 1, 1), total


def compute_directions(
    handle,
    k: int = DEFAULT_K,  # how many components to keep
    n: int = DEFAULT_SAMPLES,  # how many latents to sample
    seed: int = 0,  # seed of those samples
) -> Directions:
    """PCA directions of ``handle``'s latent space; see the module docstring."""
    _check_latent_model(handle)
    if k < 1 or n < 2:
        raise ValueError("directions need k >= 1 and at least 2 samples")
    style = adv.is_style(handle)
    n = n if style else min(n, FEATURE_SAMPLES)
    z, feats, feature = _collect(handle, n, seed)
    # Double precision where it is cheap (W is at most 512 wide); a wide
    # feature layer stays in float32, which halves the randomized SVD's work.
    x = feats.double() if feats.shape[1] <= 1024 else feats
    mean, comps, variances, total = _pca(x, k, seed)
    mean, comps, variances = mean.double(), comps.double(), variances.double()
    explained = (variances / total).float()
    if style:
        sigma = variances.sqrt().float()
        return Directions("w", comps.float(), sigma, explained, mean.float(),
                          feature, n, seed)  # fmt: skip
    coords = (feats.double() - mean) @ comps.T  # [n, k]
    back = torch.linalg.lstsq(coords, z.double()).solution  # [k, z_dim]
    q, r = torch.linalg.qr(back.T)  # columns: Gram-Schmidt of the rows, in order
    # QR fixes each column only up to sign: point it the way its row of B does.
    units = (q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)).T
    keep = min(units.shape[0], k)
    units = units[:keep]
    sigma = (z.double() @ units.T).std(0)
    return Directions("z", units.float(), sigma.float(), explained[:keep],
                      z.mean(0).float(), feature, n, seed)  # fmt: skip


# -- the cache beside the checkpoint ------------------------------------------

_digests: dict[tuple, str] = {}
_digest_lock = threading.Lock()


def checkpoint_digest(path: Path) -> str:
    """sha256 of the checkpoint file, remembered per (path, mtime, size)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _digest_lock:
        if key in _digests:
            return _digests[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    with _digest_lock:
        if len(_digests) >= 256:  # every rewrite of latest.pt is a new key
            _digests.clear()
        _digests[key] = value = digest.hexdigest()
    return value


def cache_path(checkpoint: Path, variant: str = "ema", n: int = DEFAULT_SAMPLES,
               seed: int = 0) -> Path:  # fmt: skip
    """Where the directions of ``checkpoint`` are cached (a folder beside it)."""
    checkpoint = Path(checkpoint)
    digest = checkpoint_digest(checkpoint)[:24]
    return checkpoint.parent / CACHE_DIR / f"{digest}-{variant}-n{n}-s{seed}.pt"


def directions_for(
    checkpoint: Path,
    handle,
    k: int = DEFAULT_K,
    n: int = DEFAULT_SAMPLES,
    seed: int = 0,
    variant: str = "ema",  # which weights the handle holds (part of the key)
) -> tuple[Directions, bool]:
    """(the first k directions of the checkpoint's generator, whether they came
    from the cache). Computes and caches them when missing or too few; a
    folder that cannot be written only loses the cache."""
    path = cache_path(checkpoint, variant, n, seed)
    if path.is_file():
        try:
            cached = load_directions(path)
            if cached.k >= k or cached.k == cached.components.shape[1]:
                return cached.first(k), True
        except ValueError:
            pass  # a damaged cache is computed again
    dirs = compute_directions(handle, max(k, DEFAULT_K), n, seed)
    try:
        dirs.save(path)
        prune_cache(path.parent, keep=path)
    except OSError:
        pass
    return dirs.first(k), False


def prune_cache(folder: Path, keep: Path) -> None:
    """Delete all but the MAX_CACHED newest cache files of ``folder``, never
    ``keep`` (the one just written). Another process may prune at once."""
    files = []
    for file in Path(folder).glob("*.pt"):
        try:
            files.append((file.stat().st_mtime_ns, file))
        except FileNotFoundError:
            continue
    files.sort(reverse=True)
    for _, file in files[MAX_CACHED:]:
        if file != keep:
            file.unlink(missing_ok=True)


# -- editing --------------------------------------------------------------------


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """alpha as a float; ValueError when it is not finite or past MAX_ALPHA."""
    alpha = float(alpha)
    if not math.isfinite(alpha) or abs(alpha) > MAX_ALPHA:
        raise ValueError(f"{name} must be a finite number in [-{MAX_ALPHA:g}, "
                         f"{MAX_ALPHA:g}] (got {alpha})")  # fmt: skip
    return alpha


def _offset(dirs: Directions, alphas: dict[int, float]) -> torch.Tensor:
    """sum_i alpha_i sigma_i v_i, [d]; ValueError for an unknown index."""
    total = torch.zeros(dirs.components.shape[1])
    for index, alpha in alphas.items():
        if not 0 <= int(index) < dirs.k:
            raise ValueError(
                f"direction must be in 0..{dirs.k - 1} (got {index}): this "
                f"model has {dirs.k} directions"
            )
        alpha = check_alpha(alpha)
        total = total + alpha * dirs.sigma[int(index)] * dirs.components[int(index)]
    return total


def edit_ws(
    ws: torch.Tensor,  # [N, num_ws, w_dim] styles.
    dirs: Directions,
    alphas: dict[int, float],  # component index -> alpha (standard deviations)
    layers: list[int],  # w indices the edit applies to
) -> torch.Tensor:
    """The styles with ``layers`` moved along the components; others untouched."""
    edited = ws.clone()
    if layers:
        idx = torch.as_tensor(layers, dtype=torch.long, device=ws.device)
        shift = _offset(dirs, alphas).to(ws.device, ws.dtype)
        edited[:, idx] = ws[:, idx] + shift
    return edited


def edit_z(z: torch.Tensor, dirs: Directions, alphas: dict[int, float]):
    """z [N, z_dim] moved along the components."""
    return z + _offset(dirs, alphas).to(z.device, z.dtype)


@torch.no_grad()
def edited_image(
    handle,
    dirs: Directions,
    alphas: dict[int, float],
    *,
    seed: int = 0,
    layers=None,  # StyleGAN2: "coarse", "middle", "fine", "all" or indices
    truncation_psi: float = 1.0,
    label=None,
    start: tuple[str, torch.Tensor] | None = None,  # a projection's latent
) -> torch.Tensor:
    """One edited image [C, H, W] in [-1, 1] on the CPU.

    With every alpha 0 it is exactly ``handle.sample(1, seed)`` (the same
    operations in the same order). ``start`` (space, latent) replaces the
    seed by a latent found by projection (one w for every layer in W).
    """
    _check_latent_model(handle)
    if dirs.components.shape[1] != (handle.net.mapping.w_dim if adv.is_style(handle)
                                    else handle.z_dim):  # fmt: skip
        raise ValueError("these directions belong to another model")
    labels = adv._one_label(handle, label)
    if labels is not None:
        labels = labels.to(handle.device)
    if adv.is_style(handle):
        chosen = adv.resolve_layers(handle, "all" if layers is None else layers)
        if start is not None:
            w = start[1].to(handle.device).reshape(1, 1, -1)
            ws = w.expand(1, handle.net.num_ws, -1)
        else:
            z = handle.latents(1, seed)
            ws = handle.net.mapping(z, labels, truncation_psi=truncation_psi)
        ws = edit_ws(ws, dirs, alphas, chosen)
        return handle.net.synthesis(ws, noise_mode="const")[0].float().cpu()
    if layers is not None:
        raise adv.UnsupportedSampling(
            f"{handle.family} has no per-layer styles: layers needs stylegan2"
        )
    if start is not None:
        z = start[1].to(handle.device).reshape(1, -1)
    else:
        z = handle.latents(1, seed)
        truncate = getattr(handle.net, "truncate", None)
        z = truncate(z, truncation_psi) if truncate else z * float(truncation_psi)
    return handle.generate(handle.net, edit_z(z, dirs, alphas), labels)[0].float().cpu()


def alpha_strip(handle, dirs: Directions, index: int, lo: float, hi: float,
                frames: int = 7, **kwargs) -> torch.Tensor:  # fmt: skip
    """Images [frames, C, H, W] along component ``index`` from alpha lo to hi;
    each is drawn alone, so the alpha-0 frame is the original exactly."""
    if frames < 2:
        raise ValueError("a strip needs at least 2 frames")
    lo, hi = check_alpha(lo, "alpha range"), check_alpha(hi, "alpha range")
    alphas = torch.linspace(lo, hi, frames).tolist()
    return torch.stack(
        [edited_image(handle, dirs, {index: a}, **kwargs) for a in alphas]
    )

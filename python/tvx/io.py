"""Image files and codecs, as ``torchvision.io``: same function signatures, same
``ImageReadMode`` values; the operators are ``torch.ops.tvx.*`` with torchvision 0.26's
schemas."""
from __future__ import annotations

import enum
import os

import torch
from torch import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_jpeg", "decode_png", "decode_webp", "decode_gif", "decode_avif", "decode_image", "encode_jpeg", "encode_png"]


class ImageReadMode(enum.Enum):
    """torchvision's values: UNCHANGED=0, GRAY=1, GRAY_ALPHA=2, RGB=3, RGB_ALPHA=4."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4


def _mode(mode) -> int:
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    return mode.value if isinstance(mode, enum.Enum) else int(mode)


def read_file(path: str | os.PathLike) -> Tensor:
    """The bytes of a file as a uint8 tensor."""
    return torch.ops.tvx.read_file(os.fspath(path))


def write_file(filename: str | os.PathLike, data: Tensor) -> None:
    """Writes a 1-D uint8 tensor's bytes to a file."""
    torch.ops.tvx.write_file(os.fspath(filename), data)


def decode_jpeg(input: Tensor | list[Tensor], mode=ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False, min_size: tuple[int, int] | None = None):
    """JPEG bytes to a uint8 [C, H, W] tensor, as ``torchvision.io.decode_jpeg`` on the CPU.
    UNCHANGED gives the file's channels (1 gray, 3 RGB, 4 CMYK); GRAY and RGB convert (CMYK
    as torchvision does). Corrupt data is an error (torchvision decodes some of it with a
    warning).

    A list in gives a list out, decoded on the thread pool. ``device='cuda'`` decodes with
    nvJPEG (the GPU's hardware JPEG engine where it has one) on the current stream; the files
    the engine refuses (progressive) go to nvJPEG's decoupled decoder beside it
    (``TVX_NVJPEG_REFUSED=cpu``: to libjpeg, exact), and files nvJPEG cannot take (CMYK,
    arithmetic coding, DCT-scaled sizes) are decoded on CPU threads and uploaded. ``min_size=(h, w)``
    (tvx only)
    decodes at the smallest of libjpeg-turbo's DCT scales 1/8, 1/4, 1/2, 1 whose output still
    covers (h, w) in the upright orientation: the fast path to a small model input."""
    m = _mode(mode)
    device = torch.device(device)
    if device.type != "cpu":
        images = torch.ops.tvx.decode_jpegs(list(input) if isinstance(input, (list, tuple)) else [input], m,
                                            apply_exif_orientation, min_size, device)
        return images if isinstance(input, (list, tuple)) else images[0]
    if isinstance(input, (list, tuple)):
        return torch.ops.tvx.decode_jpegs(list(input), m, apply_exif_orientation, min_size)
    if min_size is not None:
        return torch.ops.tvx.decode_jpeg_scaled(input, m, list(min_size), apply_exif_orientation)
    return torch.ops.tvx.decode_jpeg(input, m, apply_exif_orientation)


def decode_png(input: Tensor, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> Tensor:
    """PNG bytes to a [C, H, W] tensor, uint8, or uint16 for 16-bit files, as
    ``torchvision.io.decode_png``: UNCHANGED gives the file's channels (a palette image its
    indices); GRAY, GRAY_ALPHA, RGB and RGB_ALPHA convert through libpng."""
    return torch.ops.tvx.decode_png(input, _mode(mode), apply_exif_orientation)


def decode_webp(input: Tensor, mode=ImageReadMode.UNCHANGED) -> Tensor:
    """WebP bytes to uint8 [C, H, W], as ``torchvision.io.decode_webp``: RGB, or RGBA where
    the file has alpha; RGB or RGB_ALPHA as asked; GRAY modes give the file's colours."""
    return torch.ops.tvx.decode_webp(input, _mode(mode))


def decode_avif(input: Tensor, mode=ImageReadMode.UNCHANGED) -> Tensor:
    """AVIF bytes to [C, H, W] (libavif, where tvx was built with it: ``tvx info``), as
    torchvision's ``decode_avif``: uint8, or uint16 over the full 16-bit range for deeper
    images; UNCHANGED (RGB, or RGBA with alpha), RGB or RGB_ALPHA."""
    return torch.ops.tvx.decode_avif(input, _mode(mode))


def decode_gif(input: Tensor) -> Tensor:
    """GIF bytes to uint8 RGB, as ``torchvision.io.decode_gif``: [3, H, W] for one frame,
    [N, 3, H, W] for an animation, each frame composed on the canvas as torchvision does."""
    return torch.ops.tvx.decode_gif(input)


def decode_image(input: Tensor | list[Tensor], mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Any supported format (JPEG, PNG, WebP, GIF, AVIF), found from its first bytes. GIF gives
    RGB frames whatever the mode, as torchvision's does. A list in (tvx only) gives a list
    out, decoded on the thread pool."""
    if isinstance(input, (list, tuple)):
        return torch.ops.tvx.decode_images(list(input), _mode(mode), apply_exif_orientation)
    return torch.ops.tvx.decode_image(input, _mode(mode), apply_exif_orientation)


def encode_jpeg(input: Tensor | list[Tensor], quality: int = 75):
    """uint8 [C, H, W] (C = 1 or 3) to JPEG bytes, as ``torchvision.io.encode_jpeg``: a list in
    gives a list out, encoded on the thread pool; CUDA images are encoded with nvJPEG and their
    bytes stay on the GPU, as torchvision's."""
    if isinstance(input, (list, tuple)):
        return torch.ops.tvx.encode_jpegs(list(input), quality)
    if input.is_cuda:
        return torch.ops.tvx.encode_jpegs([input], quality)[0]
    return torch.ops.tvx.encode_jpeg(input, quality)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """[C, H, W] to PNG bytes, as ``torchvision.io.encode_png``; beyond torchvision, also
    gray+alpha (C = 2), RGBA (C = 4) and uint16 images (16-bit PNG)."""
    return torch.ops.tvx.encode_png(input, compression_level)

"""Image files and codecs, as ``torchvision.io``: same function signatures, same
``ImageReadMode`` values; the operators are ``torch.ops.tvx.*`` with torchvision 0.26's
schemas."""
from __future__ import annotations

import enum
import os

import torch
from torch import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_jpeg", "decode_png", "decode_webp", "decode_image", "encode_jpeg", "encode_png"]


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
                apply_exif_orientation: bool = False):
    """JPEG bytes to a uint8 [C, H, W] tensor (a list in, a list out), as
    ``torchvision.io.decode_jpeg`` on the CPU. UNCHANGED gives the file's channels (1 gray,
    3 RGB, 4 CMYK); GRAY and RGB convert (CMYK as torchvision does). Corrupt data is an
    error (torchvision decodes some of it with a warning)."""
    if str(device) != "cpu":
        raise NotImplementedError("tvx.io.decode_jpeg: only device='cpu' so far (the nvJPEG decoder comes next)")
    m = _mode(mode)
    if isinstance(input, (list, tuple)):
        return [torch.ops.tvx.decode_jpeg(x, m, apply_exif_orientation) for x in input]
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


def decode_image(input: Tensor, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> Tensor:
    """Any supported format (JPEG, PNG, WebP so far), found from its first bytes."""
    return torch.ops.tvx.decode_image(input, _mode(mode), apply_exif_orientation)


def encode_jpeg(input: Tensor | list[Tensor], quality: int = 75):
    """uint8 [C, H, W] (C = 1 or 3) to JPEG bytes, as ``torchvision.io.encode_jpeg`` on the
    CPU (a list in, a list out)."""
    if isinstance(input, (list, tuple)):
        return [torch.ops.tvx.encode_jpeg(x, quality) for x in input]
    return torch.ops.tvx.encode_jpeg(input, quality)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """[C, H, W] to PNG bytes, as ``torchvision.io.encode_png``; beyond torchvision, also
    gray+alpha (C = 2), RGBA (C = 4) and uint16 images (16-bit PNG)."""
    return torch.ops.tvx.encode_png(input, compression_level)

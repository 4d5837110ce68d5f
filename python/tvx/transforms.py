"""Tensor transforms with torchvision.transforms.functional's signatures; kernels in libtvx."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = ["to_tensor", "normalize"]


def to_tensor(pic: Tensor, layout: str = "HWC") -> Tensor:
    """uint8 image -> float32 in [0, 1], channels first, as ``torchvision.transforms.functional.to_tensor``
    reads an array. ``layout`` says where the channels are ("HWC", torchvision's layout for
    arrays, or "CHW"); a batch of images has a leading N. An ambiguous shape (``[3, 224, 224]``
    read as HWC) is refused with a message naming the other layout."""
    return torch.ops.tvx.to_tensor(pic, layout)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor - mean[c]) / std[c]`` per channel, as ``torchvision.transforms.functional.normalize``."""
    mean, std = [float(m) for m in mean], [float(s) for s in std]
    if inplace:
        torch.ops.tvx.normalize_(tensor, mean, std)
        return tensor
    return torch.ops.tvx.normalize(tensor, mean, std)

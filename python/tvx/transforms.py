"""Tensor transforms with torchvision.transforms.functional's signatures; kernels in libtvx."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = ["to_tensor", "normalize", "resize", "preprocess", "to_dtype", "rgb_to_grayscale", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_sharpness", "adjust_hue", "adjust_gamma", "posterize",
           "solarize", "autocontrast", "equalize", "invert", "gaussian_blur"]


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


def _resized_size(height: int, width: int, size: Optional[Union[int, Sequence[int]]], max_size: Optional[int]) -> list[int]:
    """torchvision's output size: [h, w]; [s] or s for the shorter edge (capped by max_size);
    None with max_size for the longer edge."""
    if isinstance(size, int):
        size = [size]
    if size is not None and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size is None or specifies the length of the smaller "
                             "edge, i.e. size should be an int or a sequence of length 1 in torchscript mode.")
        return [int(size[0]), int(size[1])]
    shorter, longer = (width, height) if width <= height else (height, width)
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        new_short, new_long = int(max_size * shorter / longer), max_size
    elif len(size) == 1:
        new_short = int(size[0])
        new_long = int(new_short * longer / shorter)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        raise ValueError(f"size must be an int, [h, w], [shorter edge] or None, got {size}")
    return [new_long, new_short] if width <= height else [new_short, new_long]


def resize(inpt, size: Optional[Union[int, Sequence[int]]], interpolation="bilinear",
           max_size: Optional[int] = None, antialias: Optional[bool] = True):
    """``torchvision.transforms.v2.functional.resize`` on a tensor [..., C, H, W]: uint8, float32
    or float64 (float16/bfloat16 too), contiguous or channels_last. ``interpolation`` is an
    InterpolationMode or its value ("nearest", "nearest-exact", "bilinear", "bicubic").

    A list of [C, H, W] images of any sizes gives a list, each resized by the same rule; on CUDA
    the whole list is one kernel launch."""
    mode = getattr(interpolation, "value", interpolation)
    if isinstance(inpt, (list, tuple)):
        sizes = []
        for i, img in enumerate(inpt):
            if img.dim() != 3:
                raise ValueError(f"tvx.resize: image {i} must have shape [C, H, W], got {list(img.shape)}")
            sizes += _resized_size(img.shape[-2], img.shape[-1], size, max_size)
        if not sizes:  # no tensor to dispatch on
            return []
        return torch.ops.tvx.resize_list(list(inpt), sizes, mode, bool(antialias))
    if inpt.dim() < 3:
        raise ValueError(f"tvx.resize: image must have shape [..., C, H, W], got {list(inpt.shape)}")
    out_size = _resized_size(inpt.shape[-2], inpt.shape[-1], size, max_size)
    if out_size == [inpt.shape[-2], inpt.shape[-1]]:
        return inpt
    return torch.ops.tvx.resize(inpt, out_size, mode, bool(antialias))


def preprocess(images, resize=None, crop=None, mean=None, std=None, dtype=torch.float32, channels_last=False,
               interpolation="bilinear", antialias=True, max_size=None) -> Tensor:
    """uint8 images [C, H, W] (a list of any sizes, or a batch) to one normalised batch
    [N, C, h, w] in one pass: ``resize(size=resize, max_size)``, ``center_crop(crop)``,
    ``to_dtype(dtype, scale=True)`` and ``normalize(mean, std)`` of
    torchvision.transforms.v2.functional; each step is skipped when its argument is None.
    ``channels_last`` gives an NHWC batch. On CUDA one kernel makes the whole batch. float16 and
    bfloat16 batches are the float32 result rounded once (torchvision's chain in those types
    rounds after each step, up to 2 units of the last place away)."""
    if isinstance(images, Tensor):
        images = list(images.unbind(0)) if images.dim() == 4 else [images]
    def as_list(v):
        if v is None:
            return []
        return [int(v)] if isinstance(v, int) else [int(x) for x in v]
    mean = [] if mean is None else [float(m) for m in mean]
    std = [] if std is None else [float(s) for s in std]
    if not images:  # no tensor to dispatch on: an empty batch of the crop's (or resize's) size
        size = as_list(crop) or (as_list(resize) if len(as_list(resize)) == 2 else [0, 0])
        size = size * 2 if len(size) == 1 else size
        return torch.empty(0, 0, *size, dtype=dtype)
    return torch.ops.tvx.preprocess(list(images), as_list(resize), max_size, as_list(crop), mean, std, dtype,
                                    bool(channels_last), getattr(interpolation, "value", interpolation), bool(antialias))


# Colour transforms: torchvision.transforms.v2.functional's signatures, kernels in libtvx.

def to_dtype(inpt: Tensor, dtype: torch.dtype = torch.float, scale: bool = False) -> Tensor:
    return torch.ops.tvx.to_dtype(inpt, dtype, scale)


def rgb_to_grayscale(inpt: Tensor, num_output_channels: int = 1) -> Tensor:
    return torch.ops.tvx.rgb_to_grayscale(inpt, num_output_channels)


def adjust_brightness(inpt: Tensor, brightness_factor: float) -> Tensor:
    return torch.ops.tvx.adjust_brightness(inpt, float(brightness_factor))


def adjust_contrast(inpt: Tensor, contrast_factor: float) -> Tensor:
    return torch.ops.tvx.adjust_contrast(inpt, float(contrast_factor))


def adjust_saturation(inpt: Tensor, saturation_factor: float) -> Tensor:
    return torch.ops.tvx.adjust_saturation(inpt, float(saturation_factor))


def adjust_sharpness(inpt: Tensor, sharpness_factor: float) -> Tensor:
    return torch.ops.tvx.adjust_sharpness(inpt, float(sharpness_factor))


def adjust_hue(inpt: Tensor, hue_factor: float) -> Tensor:
    return torch.ops.tvx.adjust_hue(inpt, float(hue_factor))


def adjust_gamma(inpt: Tensor, gamma: float, gain: float = 1) -> Tensor:
    return torch.ops.tvx.adjust_gamma(inpt, float(gamma), float(gain))


def posterize(inpt: Tensor, bits: int) -> Tensor:
    if not isinstance(bits, int) or not 0 <= bits <= 8:
        raise TypeError(f"bits must be a positive integer in the range [0, 8], got {bits} instead.")
    return torch.ops.tvx.posterize(inpt, bits)


def solarize(inpt: Tensor, threshold: float) -> Tensor:
    return torch.ops.tvx.solarize(inpt, threshold)  # an int stays an int (compared exactly)


def autocontrast(inpt: Tensor) -> Tensor:
    return torch.ops.tvx.autocontrast(inpt)


def equalize(inpt: Tensor) -> Tensor:
    return torch.ops.tvx.equalize(inpt)


def invert(inpt: Tensor) -> Tensor:
    return torch.ops.tvx.invert(inpt)


def gaussian_blur(inpt: Tensor, kernel_size, sigma=None) -> Tensor:
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size]
    elif len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    kernel_size = [int(k) for k in kernel_size]
    if sigma is not None:
        sigma = [float(sigma)] if isinstance(sigma, (int, float)) else [float(s) for s in sigma]
    return torch.ops.tvx.gaussian_blur(inpt, kernel_size, sigma)

"""Tensor transforms with torchvision.transforms.functional's signatures; kernels in libtvx."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = ["to_tensor", "normalize", "resize", "preprocess", "to_dtype", "rgb_to_grayscale", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_sharpness", "adjust_hue", "adjust_gamma", "posterize",
           "solarize", "autocontrast", "equalize", "invert", "gaussian_blur",
           "horizontal_flip", "vertical_flip", "rotate90", "crop", "center_crop", "resized_crop", "pad", "affine",
           "rotate", "perspective", "elastic",
           "horizontal_flip_mask", "vertical_flip_mask", "resize_mask", "crop_mask", "center_crop_mask",
           "resized_crop_mask", "pad_mask", "affine_mask", "rotate_mask", "perspective_mask", "elastic_mask",
           "convert_bounding_box_format", "clamp_bounding_boxes", "horizontal_flip_bounding_boxes",
           "vertical_flip_bounding_boxes", "rotate90_bounding_boxes", "resize_bounding_boxes", "crop_bounding_boxes",
           "center_crop_bounding_boxes", "resized_crop_bounding_boxes", "pad_bounding_boxes", "affine_bounding_boxes",
           "rotate_bounding_boxes", "perspective_bounding_boxes", "elastic_bounding_boxes"]


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
    mode = _mode(interpolation)
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
    if inpt.dtype == torch.bool or not (inpt.dtype == torch.uint8 or inpt.is_floating_point()):
        # As torchvision: other integer images (and bool masks) resample in float32, rounded back.
        out = torch.ops.tvx.resize(inpt.float(), out_size, mode, bool(antialias))
        return (out if inpt.dtype == torch.bool else out.round_()).to(inpt.dtype)
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
        images = [images]  # one image, or a batch the op takes whole (no view per image)
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
                                    bool(channels_last), _mode(interpolation), bool(antialias))


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


# Geometry: torchvision.transforms.v2.functional's image, mask and bounding-box kernels
# (horizontal_flip is horizontal_flip_image, and so on), with its signatures.

_PIL_MODES = {0: "nearest", 2: "bilinear", 3: "bicubic"}  # Pillow's codes torchvision also takes


def _mode(interpolation) -> str:
    """An InterpolationMode, its value ("bilinear") or Pillow's integer code, as a mode name."""
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        if interpolation not in _PIL_MODES:
            raise ValueError(f"tvx: interpolation code {interpolation} is not nearest (0), bilinear (2) or bicubic (3)")
        return _PIL_MODES[interpolation]
    return getattr(interpolation, "value", interpolation)


def _floats(v) -> Optional[list[float]]:
    """None, a number or a sequence -> None or a list of floats (fill, center)."""
    if v is None:
        return None
    return [float(v)] if isinstance(v, (int, float)) else [float(x) for x in v]


def _ints(v) -> list[int]:
    return [int(v)] if isinstance(v, int) else [int(x) for x in v]


def _affine_args(translate, shear) -> tuple[list[float], list[float]]:
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if isinstance(shear, (int, float)):
        shear = [shear, 0.0]  # torchvision: a number shears x only
    return [float(t) for t in translate], [float(x) for x in shear]


def _coefficients(startpoints, endpoints, coefficients) -> list[float]:
    if coefficients is not None:
        if startpoints is not None and endpoints is not None:
            raise ValueError("The startpoints/endpoints and the coefficients shouldn't be defined concurrently.")
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        return [float(c) for c in coefficients]
    if startpoints is None or endpoints is None:
        raise ValueError("Either the startpoints/endpoints or the coefficients must have non `None` values.")
    flat = lambda points: [float(v) for p in points for v in p]  # noqa: E731
    return torch.ops.tvx.perspective_coefficients(flat(startpoints), flat(endpoints))


def horizontal_flip(inpt: Tensor) -> Tensor:
    return torch.ops.tvx.horizontal_flip(inpt)


def vertical_flip(inpt: Tensor) -> Tensor:
    return torch.ops.tvx.vertical_flip(inpt)


def rotate90(inpt: Tensor, k: int = 1) -> Tensor:
    """k quarter turns counter-clockwise: ``rotate(inpt, 90 * k, expand=True)`` without resampling."""
    return torch.ops.tvx.rotate90(inpt, int(k))


def crop(inpt: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    return torch.ops.tvx.crop(inpt, int(top), int(left), int(height), int(width))


def center_crop(inpt: Tensor, output_size) -> Tensor:
    return torch.ops.tvx.center_crop(inpt, _ints(output_size))


def resized_crop(inpt: Tensor, top: int, left: int, height: int, width: int, size, interpolation="bilinear",
                 antialias: Optional[bool] = True) -> Tensor:
    return torch.ops.tvx.resized_crop(inpt, int(top), int(left), int(height), int(width), _ints(size),
                                      _mode(interpolation), bool(antialias))


def pad(inpt: Tensor, padding, fill=None, padding_mode: str = "constant") -> Tensor:
    return torch.ops.tvx.pad(inpt, _ints(padding), _floats(fill), padding_mode)


def affine(inpt: Tensor, angle: float, translate, scale: float, shear, interpolation="nearest", fill=None,
           center=None) -> Tensor:
    translate, shear = _affine_args(translate, shear)
    return torch.ops.tvx.affine(inpt, float(angle), translate, float(scale), shear, _mode(interpolation),
                                _floats(fill), _floats(center))


def rotate(inpt: Tensor, angle: float, interpolation="nearest", expand: bool = False, center=None, fill=None) -> Tensor:
    return torch.ops.tvx.rotate(inpt, float(angle), _mode(interpolation), bool(expand), _floats(center), _floats(fill))


def perspective(inpt: Tensor, startpoints, endpoints, interpolation="bilinear", fill=None, coefficients=None) -> Tensor:
    return torch.ops.tvx.perspective(inpt, _coefficients(startpoints, endpoints, coefficients), _mode(interpolation),
                                     _floats(fill))


def elastic(inpt: Tensor, displacement: Tensor, interpolation="bilinear", fill=None) -> Tensor:
    return torch.ops.tvx.elastic(inpt, displacement, _mode(interpolation), _floats(fill))


def horizontal_flip_mask(mask: Tensor) -> Tensor:
    return torch.ops.tvx.horizontal_flip(mask)


def vertical_flip_mask(mask: Tensor) -> Tensor:
    return torch.ops.tvx.vertical_flip(mask)


def resize_mask(mask: Tensor, size, max_size: Optional[int] = None) -> Tensor:
    return torch.ops.tvx.resize_mask(mask, [] if size is None else _ints(size), max_size)


def crop_mask(mask: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    return torch.ops.tvx.crop_mask(mask, int(top), int(left), int(height), int(width))


def center_crop_mask(mask: Tensor, output_size) -> Tensor:
    return torch.ops.tvx.center_crop_mask(mask, _ints(output_size))


def resized_crop_mask(mask: Tensor, top: int, left: int, height: int, width: int, size) -> Tensor:
    return torch.ops.tvx.resized_crop_mask(mask, int(top), int(left), int(height), int(width), _ints(size))


def pad_mask(mask: Tensor, padding, fill=None, padding_mode: str = "constant") -> Tensor:
    if isinstance(fill, (list, tuple)):
        raise ValueError("Non-scalar fill value is not supported")
    return torch.ops.tvx.pad_mask(mask, _ints(padding), 0.0 if fill is None else float(fill), padding_mode)


def affine_mask(mask: Tensor, angle: float, translate, scale: float, shear, fill=None, center=None) -> Tensor:
    translate, shear = _affine_args(translate, shear)
    return torch.ops.tvx.affine_mask(mask, float(angle), translate, float(scale), shear, _floats(fill), _floats(center))


def rotate_mask(mask: Tensor, angle: float, expand: bool = False, center=None, fill=None) -> Tensor:
    return torch.ops.tvx.rotate_mask(mask, float(angle), bool(expand), _floats(center), _floats(fill))


def perspective_mask(mask: Tensor, startpoints, endpoints, fill=None, coefficients=None) -> Tensor:
    return torch.ops.tvx.perspective_mask(mask, _coefficients(startpoints, endpoints, coefficients), _floats(fill))


def elastic_mask(mask: Tensor, displacement: Tensor, fill=None) -> Tensor:
    return torch.ops.tvx.elastic_mask(mask, displacement, _floats(fill))


# Bounding boxes: format is a torchvision BoundingBoxFormat or its name ("XYXY", "XYWH",
# "CXCYWH"); canvas_size is (height, width); the forms that change the canvas return
# (boxes, (height, width)) as torchvision's.

def _format(format) -> str:
    return str(getattr(format, "name", format)).upper()


def _canvas(canvas_size) -> list[int]:
    return [int(canvas_size[0]), int(canvas_size[1])]


def _with_canvas(result) -> tuple[Tensor, tuple[int, int]]:
    boxes, canvas = result
    return boxes, (int(canvas[0]), int(canvas[1]))


def convert_bounding_box_format(inpt: Tensor, old_format, new_format, inplace: bool = False) -> Tensor:
    out = torch.ops.tvx.convert_bounding_box_format(inpt, _format(old_format), _format(new_format))
    if inplace:
        return inpt.copy_(out)
    return out


def clamp_bounding_boxes(inpt: Tensor, format, canvas_size, clamping_mode: Optional[str] = "soft") -> Tensor:
    return torch.ops.tvx.clamp_bounding_boxes(inpt, _format(format), _canvas(canvas_size), clamping_mode)


def horizontal_flip_bounding_boxes(bounding_boxes: Tensor, format, canvas_size) -> Tensor:
    return torch.ops.tvx.horizontal_flip_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size))


def vertical_flip_bounding_boxes(bounding_boxes: Tensor, format, canvas_size) -> Tensor:
    return torch.ops.tvx.vertical_flip_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size))


def rotate90_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, k: int = 1,
                            clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.rotate90_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                              int(k), clamping_mode))


def resize_bounding_boxes(bounding_boxes: Tensor, canvas_size, size, max_size: Optional[int] = None, format="XYXY",
                          clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.resize_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                            [] if size is None else _ints(size), max_size))


def crop_bounding_boxes(bounding_boxes: Tensor, format, top: int, left: int, height: int, width: int,
                        clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.crop_bounding_boxes(bounding_boxes, _format(format), int(top), int(left),
                                                          int(height), int(width), clamping_mode))


def center_crop_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, output_size,
                               clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.center_crop_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                                 _ints(output_size), clamping_mode))


def resized_crop_bounding_boxes(bounding_boxes: Tensor, format, top: int, left: int, height: int, width: int, size,
                                clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.resized_crop_bounding_boxes(bounding_boxes, _format(format), int(top), int(left),
                                                                  int(height), int(width), _ints(size), clamping_mode))


def pad_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, padding, padding_mode: str = "constant",
                       clamping_mode: Optional[str] = "soft"):
    if padding_mode != "constant":
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with bounding boxes")
    return _with_canvas(torch.ops.tvx.pad_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                         _ints(padding), clamping_mode))


def affine_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, angle: float, translate, scale: float, shear,
                          center=None, clamping_mode: Optional[str] = "soft") -> Tensor:
    translate, shear = _affine_args(translate, shear)
    return torch.ops.tvx.affine_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size), float(angle),
                                               translate, float(scale), shear, _floats(center), clamping_mode)


def rotate_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, angle: float, expand: bool = False,
                          center=None, clamping_mode: Optional[str] = "soft"):
    return _with_canvas(torch.ops.tvx.rotate_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                            float(angle), bool(expand), _floats(center), clamping_mode))


def perspective_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, startpoints, endpoints,
                               coefficients=None, clamping_mode: Optional[str] = "soft") -> Tensor:
    return torch.ops.tvx.perspective_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size),
                                                    _coefficients(startpoints, endpoints, coefficients), clamping_mode)


def elastic_bounding_boxes(bounding_boxes: Tensor, format, canvas_size, displacement: Tensor,
                           clamping_mode: Optional[str] = "soft") -> Tensor:
    return torch.ops.tvx.elastic_bounding_boxes(bounding_boxes, _format(format), _canvas(canvas_size), displacement,
                                                clamping_mode)

// tvx transforms: torchvision.transforms.functional's tensor transforms. Each is an operator
// (torch.ops.tvx.<name>) with CPU, CUDA and Meta kernels; these call it through the
// dispatcher.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tvx::transforms {

/// Where the channel axis of a uint8 image stands in memory.
enum class Layout {
  HWC,  ///< [H, W, C]: torchvision's layout for image arrays (to_tensor of a numpy array)
  CHW,  ///< [C, H, W]: torchvision's layout for tensors (decode_image, pil_to_tensor)
};

/// uint8 image -> float32 in [0, 1], channels first, as torchvision's to_tensor.
/// Accepts [H, W] (one channel), [H, W, C] / [C, H, W] as `layout` says (default HWC,
/// torchvision's convention for arrays), or a batch [N, H, W, C] / [N, C, H, W]; any
/// strides. A shape the layout reads as more than 4 channels while the other layout would
/// read as at most 4 (a [3, 224, 224] tensor read as HWC) is ambiguous and refused with a
/// message naming the other layout. Returns a contiguous [C, H, W] (or [N, C, H, W]).
at::Tensor to_tensor(const at::Tensor& image, Layout layout = Layout::HWC);

/// (x - mean[c]) / std[c] for each channel c of a float [..., C, H, W] tensor, as
/// torchvision's normalize: mean and std are rounded to the tensor's dtype first, and a
/// zero in std is an error. With inplace, writes into `tensor` and returns it. Differentiable.
at::Tensor normalize(const at::Tensor& tensor, c10::ArrayRef<double> mean, c10::ArrayRef<double> std,
                     bool inplace = false);

/// Resampling filters, torchvision's InterpolationMode.
enum class Interpolation { nearest, nearest_exact, bilinear, bicubic };

/// torchvision's output size of resize for an image of height x width: size [h, w] as
/// given; [s] makes the shorter edge s (the other keeps the aspect ratio, truncated); with
/// max_size the longer edge is capped at it; an empty size with max_size makes the longer
/// edge max_size. Returns {h, w}.
std::vector<std::int64_t> resized_size(std::int64_t height, std::int64_t width, c10::IntArrayRef size,
                                       std::optional<std::int64_t> max_size = std::nullopt);

/// Resizes an image or batch [..., C, H, W] as torchvision.transforms.v2.functional.resize:
/// uint8, float32 or float64 (float16 and bfloat16 on CUDA), contiguous or channels_last
/// (kept). Bilinear and bicubic filter with antialias when shrinking (antialias=true, the
/// default); nearest and nearest-exact ignore antialias. uint8 on the CPU is computed as
/// ATen's uint8 path (16-bit fixed-point weights, rounded after each pass).
at::Tensor resize(const at::Tensor& image, c10::IntArrayRef size, Interpolation interpolation = Interpolation::bilinear,
                  std::optional<std::int64_t> max_size = std::nullopt, bool antialias = true);

/// Resizes a list of [C, H, W] images of any sizes, each by the same rule (size [h, w], or the
/// shorter edge, with max_size) and in the same way as the tensor form; on CUDA in one launch
/// for the whole list. The images share a device.
std::vector<at::Tensor> resize(at::TensorList images, c10::IntArrayRef size,
                               Interpolation interpolation = Interpolation::bilinear,
                               std::optional<std::int64_t> max_size = std::nullopt, bool antialias = true);

// Colour transforms, as torchvision.transforms.v2.functional's on tensors [..., C, H, W]
// (uint8, other integers and floating point as torchvision takes them); each is also
// torch.ops.tvx.<name>, differentiable where torchvision's is.

/// The dtype conversion; with scale, values are mapped between the dtypes' ranges.
at::Tensor to_dtype(const at::Tensor& image, at::ScalarType dtype = at::kFloat, bool scale = false);
/// 0.2989 R + 0.587 G + 0.114 B, in 1 or 3 channels, in the image's dtype.
at::Tensor rgb_to_grayscale(const at::Tensor& image, std::int64_t num_output_channels = 1);
at::Tensor adjust_brightness(const at::Tensor& image, double brightness_factor);
at::Tensor adjust_contrast(const at::Tensor& image, double contrast_factor);
at::Tensor adjust_saturation(const at::Tensor& image, double saturation_factor);
at::Tensor adjust_sharpness(const at::Tensor& image, double sharpness_factor);
/// hue_factor in [-0.5, 0.5]: the hue rotated in HSV.
at::Tensor adjust_hue(const at::Tensor& image, double hue_factor);
at::Tensor adjust_gamma(const at::Tensor& image, double gamma, double gain = 1.0);
/// Keeps the `bits` (0..8) highest bits of each value.
at::Tensor posterize(const at::Tensor& image, std::int64_t bits);
/// Inverts the values at or above threshold.
at::Tensor solarize(const at::Tensor& image, const at::Scalar& threshold);
/// Stretches each channel to the dtype's full range.
at::Tensor autocontrast(const at::Tensor& image);
/// Histogram equalisation per channel (on the image as uint8).
at::Tensor equalize(const at::Tensor& image);
at::Tensor invert(const at::Tensor& image);
/// Gaussian blur with reflected borders; sigma defaults to 0.15 * size + 0.35.
at::Tensor gaussian_blur(const at::Tensor& image, c10::IntArrayRef kernel_size,
                         std::optional<c10::ArrayRef<double>> sigma = std::nullopt);

// Geometry, as torchvision.transforms.v2.functional's on tensors. Images are [..., C, H, W]
// (the flips and rotate90 take [..., H, W] too); each is also torch.ops.tvx.<name>,
// differentiable where torchvision's is. Masks ([..., H, W] or [..., C, H, W], any dtype) go
// through the *_mask forms (nearest sampling, fill 0) and bounding boxes through the
// *_bounding_boxes forms, so that both follow the image.

at::Tensor horizontal_flip(const at::Tensor& image);
at::Tensor vertical_flip(const at::Tensor& image);
/// Rotates by k quarter turns counter-clockwise (torch.rot90 over the last two axes): equal to
/// rotate(image, 90 * k, expand=true) without resampling.
at::Tensor rotate90(const at::Tensor& image, std::int64_t k = 1);
/// The region [top, top + height) x [left, left + width); what lies outside the image is 0.
at::Tensor crop(const at::Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width);
/// The centred region of output_size ([h, w] or [s]), padded with zeros where larger than the image.
at::Tensor center_crop(const at::Tensor& image, c10::IntArrayRef output_size);
/// crop, then resize to `size` (as resize's size).
at::Tensor resized_crop(const at::Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height,
                        std::int64_t width, c10::IntArrayRef size, Interpolation interpolation = Interpolation::bilinear,
                        bool antialias = true);
/// Border modes of pad.
enum class PaddingMode { constant, edge, reflect, symmetric };
/// padding: [all], [left/right, top/bottom] or [left, top, right, bottom] (negative values crop);
/// fill (constant mode): one value or one per channel, default 0.
at::Tensor pad(const at::Tensor& image, c10::IntArrayRef padding, std::optional<c10::ArrayRef<double>> fill = std::nullopt,
               PaddingMode padding_mode = PaddingMode::constant);
/// The affine map of torchvision: rotation by angle (degrees, counter-clockwise), translation,
/// scale and shear (degrees, [x] or [x, y]) about center (pixels; default the image's centre),
/// sampled with nearest or bilinear; fill (one value or one per channel) where no pixel maps,
/// zeros when absent.
at::Tensor affine(const at::Tensor& image, double angle, c10::ArrayRef<double> translate, double scale,
                  c10::ArrayRef<double> shear, Interpolation interpolation = Interpolation::nearest,
                  std::optional<c10::ArrayRef<double>> fill = std::nullopt,
                  std::optional<c10::ArrayRef<double>> center = std::nullopt);
/// Rotation by angle degrees counter-clockwise about center; with expand the output grows to
/// hold the whole rotated image.
at::Tensor rotate(const at::Tensor& image, double angle, Interpolation interpolation = Interpolation::nearest,
                  bool expand = false, std::optional<c10::ArrayRef<double>> center = std::nullopt,
                  std::optional<c10::ArrayRef<double>> fill = std::nullopt);
/// torchvision's perspective coefficients (a, b, c, d, e, f, g, h) that map the four endpoints
/// ([x, y] x 4, flattened) to the startpoints, rounded to float32 as torchvision's.
std::vector<double> perspective_coefficients(c10::ArrayRef<double> startpoints, c10::ArrayRef<double> endpoints);
/// The perspective warp with the given 8 coefficients (from perspective_coefficients).
at::Tensor perspective(const at::Tensor& image, c10::ArrayRef<double> coefficients,
                       Interpolation interpolation = Interpolation::bilinear,
                       std::optional<c10::ArrayRef<double>> fill = std::nullopt);
/// Moves each pixel by displacement [1, H, W, 2] (in grid units, torchvision's elastic).
at::Tensor elastic(const at::Tensor& image, const at::Tensor& displacement,
                   Interpolation interpolation = Interpolation::bilinear,
                   std::optional<c10::ArrayRef<double>> fill = std::nullopt);

// Masks: the image forms with nearest sampling (resize, resized_crop) and a [H, W] mask taken
// as one channel. The flips and rotate90 serve masks as they are.
at::Tensor resize_mask(const at::Tensor& mask, c10::IntArrayRef size, std::optional<std::int64_t> max_size = std::nullopt);
at::Tensor crop_mask(const at::Tensor& mask, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width);
at::Tensor center_crop_mask(const at::Tensor& mask, c10::IntArrayRef output_size);
at::Tensor resized_crop_mask(const at::Tensor& mask, std::int64_t top, std::int64_t left, std::int64_t height,
                             std::int64_t width, c10::IntArrayRef size);
at::Tensor pad_mask(const at::Tensor& mask, c10::IntArrayRef padding, double fill = 0,
                    PaddingMode padding_mode = PaddingMode::constant);
at::Tensor affine_mask(const at::Tensor& mask, double angle, c10::ArrayRef<double> translate, double scale,
                       c10::ArrayRef<double> shear, std::optional<c10::ArrayRef<double>> fill = std::nullopt,
                       std::optional<c10::ArrayRef<double>> center = std::nullopt);
at::Tensor rotate_mask(const at::Tensor& mask, double angle, bool expand = false,
                       std::optional<c10::ArrayRef<double>> center = std::nullopt,
                       std::optional<c10::ArrayRef<double>> fill = std::nullopt);
at::Tensor perspective_mask(const at::Tensor& mask, c10::ArrayRef<double> coefficients,
                            std::optional<c10::ArrayRef<double>> fill = std::nullopt);
at::Tensor elastic_mask(const at::Tensor& mask, const at::Tensor& displacement,
                        std::optional<c10::ArrayRef<double>> fill = std::nullopt);

// Bounding boxes [..., 4] on a canvas {height, width}: the forms that change the canvas return
// the new one beside the boxes. Integer boxes are computed as torchvision computes them (in
// float32 where it does, truncated back).

enum class BoxFormat { XYXY, XYWH, CXCYWH };
/// clamping_mode of torchvision: none leaves boxes as they fall; soft and hard (equal for
/// these formats) clamp them to the canvas.
enum class ClampingMode { none, soft, hard };
using CanvasSize = std::array<std::int64_t, 2>;  ///< {height, width}
struct Boxes {
  at::Tensor boxes;
  CanvasSize canvas_size;
};

at::Tensor convert_bounding_box_format(const at::Tensor& boxes, BoxFormat old_format, BoxFormat new_format);
at::Tensor clamp_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                ClampingMode clamping_mode = ClampingMode::soft);
at::Tensor horizontal_flip_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size);
at::Tensor vertical_flip_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size);
Boxes rotate90_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, std::int64_t k = 1,
                              ClampingMode clamping_mode = ClampingMode::soft);
Boxes resize_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, c10::IntArrayRef size,
                            std::optional<std::int64_t> max_size = std::nullopt);
Boxes crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, std::int64_t top, std::int64_t left,
                          std::int64_t height, std::int64_t width, ClampingMode clamping_mode = ClampingMode::soft);
Boxes center_crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                 c10::IntArrayRef output_size, ClampingMode clamping_mode = ClampingMode::soft);
Boxes resized_crop_bounding_boxes(const at::Tensor& boxes, BoxFormat format, std::int64_t top, std::int64_t left,
                                  std::int64_t height, std::int64_t width, c10::IntArrayRef size,
                                  ClampingMode clamping_mode = ClampingMode::soft);
Boxes pad_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, c10::IntArrayRef padding,
                         ClampingMode clamping_mode = ClampingMode::soft);
at::Tensor affine_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, double angle,
                                 c10::ArrayRef<double> translate, double scale, c10::ArrayRef<double> shear,
                                 std::optional<c10::ArrayRef<double>> center = std::nullopt,
                                 ClampingMode clamping_mode = ClampingMode::soft);
Boxes rotate_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size, double angle,
                            bool expand = false, std::optional<c10::ArrayRef<double>> center = std::nullopt,
                            ClampingMode clamping_mode = ClampingMode::soft);
at::Tensor perspective_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                      c10::ArrayRef<double> coefficients,
                                      ClampingMode clamping_mode = ClampingMode::soft);
at::Tensor elastic_bounding_boxes(const at::Tensor& boxes, BoxFormat format, CanvasSize canvas_size,
                                  const at::Tensor& displacement, ClampingMode clamping_mode = ClampingMode::soft);

/// What tvx::preprocess does to each image.
struct PreprocessOptions {
  std::vector<std::int64_t> resize;      ///< [h, w], [shorter edge] or empty (no resize), as resize's size
  std::optional<std::int64_t> max_size;  ///< resize's max_size
  Interpolation interpolation = Interpolation::bilinear;
  bool antialias = true;
  std::vector<std::int64_t> crop;        ///< center_crop's [h, w] or [s]; empty: none
  std::vector<double> mean, std;         ///< normalize's, 1 or C values each; empty: scale to [0, 1] only
  at::ScalarType dtype = at::kFloat;     ///< float32, float16, bfloat16 or float64
  at::MemoryFormat memory_format = at::MemoryFormat::Contiguous;  ///< or ChannelsLast (NHWC)
};

/// uint8 images [C, H, W] of any sizes (planar or HWC views, one device), or one [N, C, H, W]
/// batch as the list's only element, to one batch [N, C, h, w]: resize, center_crop,
/// to_dtype(scale=True) and normalize of torchvision.transforms.v2.functional in one pass, with
/// no intermediate tensors; on CUDA in one kernel over the batch. Equal to those four calls
/// (float32 and float64 to within their rounding, float16/bfloat16 as the float32 result
/// rounded); the crops must have one size.
at::Tensor preprocess(at::TensorList images, const PreprocessOptions& options = {});

/// How the CPU warps (affine, rotate, perspective, elastic) of uint8 and float32 images run on
/// this machine, as checked against ATen on first use: "fused sampler, pointwise grid",
/// "fused sampler, bmm grid" or "ATen's grid_sampler chain" (each gives torchvision's bits;
/// the first is the fastest). TVX_CPU_WARPS=stored-grid|aten forces the second or the third.
std::string cpu_warp_path();

}  // namespace tvx::transforms

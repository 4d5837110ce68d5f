// Private to the resize folder: the argument checks and the resampling taps every backend shares.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/string_view.h>

#include <cstdint>
#include <vector>

#include <tvx/transforms.h>

namespace tvx::transforms::detail {

/// "nearest", "nearest-exact", "bilinear" or "bicubic" (InterpolationMode.value), else an error.
Interpolation parse_interpolation(const char* op, c10::string_view name);
/// The schema's spelling of a mode (parse_interpolation's inverse).
const char* interpolation_name(Interpolation mode);

/// Checks an image [..., C, H, W] of a supported dtype and an output size [h, w] >= 1.
void check_resize_args(const char* op, const at::Tensor& image, c10::IntArrayRef size);

/// Checks resize_list's images ([C, H, W] each) and sizes ([h, w] for each image).
void check_resize_list_args(at::TensorList images, c10::IntArrayRef sizes);

/// One axis' resampling, as ATen's interpolate computes it for an image of `dtype`: output
/// index i reads the input window [start[i], start[i] + count[i]) with weights w[i * width + j].
///   antialias: the filter (bicubic a = -0.5) stretched by the scale when shrinking, centred on
///     scale * (i + 0.5), normalised over the window (ATen's *_aa kernels);
///   otherwise: bilinear at scale * (i + 0.5) - 0.5 clamped at 0; bicubic (a = -0.75) over four
///     pixels with indices clamped to the image, their weights merged at the borders.
/// The positions are computed in float32 for float32 images (as ATen does: it matters at the
/// 1e-5 level), in double otherwise; uint8 takes ATen's uint8 CPU path's form.
struct Taps {
  std::vector<std::int64_t> start, count;
  std::vector<double> weights;
  std::int64_t width = 0;
  double largest = 0;  // the axis' largest weight (sets uint8's fixed-point precision); 0: these weights'
};

/// Entries [first, first + n) of an axis' taps (a crop of its output), keeping the axis'
/// fixed-point precision.
Taps slice(const Taps& t, std::int64_t first, std::int64_t n);

/// Whether torchvision resizes uint8 natively on this CPU (ATen's fixed-point path): bicubic
/// always, bilinear where ATen's CPU capability is AVX2 or AVX-512; elsewhere (ARM, older x86)
/// it resizes the image as float32 and rounds, and so does tvx.
bool native_uint8_resize(Interpolation mode);

/// uint8 resampling on the CPU with ATen's uint8 arithmetic, of `planes` images h x w of `ch`
/// interleaved values (ch = 1: planar) into planes x ty.start.size() x tx.start.size() x ch:
/// output row i from ty's entry i, column j from tx's entry j. Equal to resize then crop.
void resample_u8(const std::uint8_t* in, std::int64_t planes, std::int64_t h, std::int64_t w, std::int64_t ch,
                 const Taps& ty, const Taps& tx, std::uint8_t* out);
Taps compute_taps(std::int64_t in, std::int64_t out, Interpolation mode, bool antialias, at::ScalarType dtype);

/// How ATen computes a nearest source index floor(i * scale) (nearest) or floor((i + 0.5) *
/// scale) (nearest-exact), scale = in / out, clamped to in - 1; its CPU kernels round
/// differently (119 * 480 / 224 is 255 in one and 254 in another):
///   channels_last: the scale and the product in float32 (ATen's channels-last CPU kernel,
///     which it also takes for outputs of h + w <= 128, and its CUDA kernels);
///   generic_float: ATen's other CPU kernel, float32 images (uint8 too); nearest-exact as
///     floor(max((i + 0.5) * scale - 0.5, 0) + 0.5);
///   generic_double: that kernel for float64 images: computed in double, rounded to float.
enum class NearestKernel { channels_last, generic_float, generic_double };
std::vector<std::int64_t> nearest_indices(std::int64_t in, std::int64_t out, bool exact, NearestKernel kernel);

/// The kernel ATen's CPU resize takes for an image of `channels`, interleaved (channels_last)
/// or not, resized to out_h x out_w.
NearestKernel cpu_nearest_kernel(at::ScalarType dtype, std::int64_t channels, bool interleaved, std::int64_t out_h,
                                 std::int64_t out_w);

}  // namespace tvx::transforms::detail

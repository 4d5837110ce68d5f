// The roi family's schemas (torchvision 0.26's, character for character), argument checks
// and C++ entry points: roi_align, roi_pool, ps_roi_align, ps_roi_pool and their backward
// operators.
#include "ops/roi/roi.h"

#include <tvx/ops.h>

#include <ATen/ops/_to_copy.h>
#include <ATen/ops/aminmax.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/zeros.h>

#include <limits>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops {
namespace roi {
namespace {

void check_rois(const char* op, const at::Tensor& rois, const char* data_name, const at::Tensor& data) {
  core::check_shape(op, {"rois", rois}, {-1, 5}, "[K, 5]");
  core::check_floating(op, {"rois", rois});
  core::check_same_device(op, {{data_name, data}, {"rois", rois}});
  const auto t = data.scalar_type(), r = rois.scalar_type();
  const bool reduced = t == at::kHalf || t == at::kBFloat16;
  TORCH_CHECK(r == t || (reduced && (r == at::kFloat || r == at::kDouble)), op, ": rois must be ",
              core::dtype_name(t), reduced ? " (or float32, float64)" : "", " like ", data_name, ", got ",
              core::dtype_name(r));
}

void check_pooling(const char* op, double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width) {
  core::check_finite(op, "spatial_scale", spatial_scale);
  TORCH_CHECK(pooled_height > 0 && pooled_width > 0, op, ": pooled_height and pooled_width must be positive, got ",
              pooled_height, " and ", pooled_width);
  TORCH_CHECK(pooled_height <= std::numeric_limits<std::int32_t>::max() / pooled_width, op,
              ": pooled_height * pooled_width must be below 2^31, got ", pooled_height, " and ", pooled_width);
}


}  // namespace

void check_forward(const char* op, const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                   std::int64_t pooled_height, std::int64_t pooled_width, bool position_sensitive) {
  core::check_rank(op, {"input", input}, {4}, "[N, C, H, W]");
  core::check_floating(op, {"input", input});
  check_rois(op, rois, "input", input);
  check_pooling(op, spatial_scale, pooled_height, pooled_width);
  if (position_sensitive)
    TORCH_CHECK(input.size(1) % (pooled_height * pooled_width) == 0, op,
                ": input channels must be a multiple of pooled_height * pooled_width = ", pooled_height * pooled_width,
                ", got ", input.size(1));
}

void check_backward(const char* op, const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                    std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                    std::int64_t channels, std::int64_t height, std::int64_t width, bool position_sensitive) {
  core::check_rank(op, {"grad", grad}, {4}, "[K, C, PH, PW]");
  core::check_floating(op, {"grad", grad});
  check_rois(op, rois, "grad", grad);
  check_pooling(op, spatial_scale, pooled_height, pooled_width);
  TORCH_CHECK(batch_size >= 0 && channels >= 0 && height >= 0 && width >= 0, op,
              ": batch_size, channels, height and width must be >= 0, got ", batch_size, ", ", channels, ", ", height,
              ", ", width);
  const std::int64_t grad_channels = position_sensitive ? channels / (pooled_height * pooled_width) : channels;
  if (position_sensitive)
    TORCH_CHECK(channels % (pooled_height * pooled_width) == 0, op,
                ": channels must be a multiple of pooled_height * pooled_width = ", pooled_height * pooled_width,
                ", got ", channels);
  TORCH_CHECK(grad.size(0) == rois.size(0) && grad.size(1) == grad_channels && grad.size(2) == pooled_height &&
                  grad.size(3) == pooled_width,
              op, ": grad must have shape [", rois.size(0), ", ", grad_channels, ", ", pooled_height, ", ",
              pooled_width, "], got ", grad.sizes());
}

void check_batch_indices(const char* op, const at::Tensor& rois, std::int64_t batch_size) {
  if (rois.size(0) == 0) return;
  const auto [lo, hi] = at::aminmax(rois.select(1, 0));
  const at::Tensor range = at::stack({lo, hi}).to(at::kCPU, at::kDouble);
  const double min = range[0].item<double>(), max = range[1].item<double>();
  // Truncated toward zero as torchvision reads them: (-1, batch_size) holds the valid ones.
  TORCH_CHECK(min > -1 && max < static_cast<double>(batch_size), op, ": rois[:, 0] must be batch indices in [0, ",
              batch_size, "), got values in [", min, ", ", max, "]");
}

void check_sampling_ratio(const char* op, std::int64_t sampling_ratio) {
  TORCH_CHECK(sampling_ratio <= kMaxGrid, op, ": sampling_ratio must be at most ", kMaxGrid, " (<= 0: adaptive), got ",
              sampling_ratio);
}

at::Tensor grad_input_sum(const at::Tensor& grad, std::int64_t batch_size, std::int64_t channels, std::int64_t height,
                          std::int64_t width) {
  const bool reduced = grad.scalar_type() == at::kHalf || grad.scalar_type() == at::kBFloat16;
  return at::zeros({batch_size, channels, height, width}, grad.options().dtype(reduced ? at::kFloat : grad.scalar_type()));
}

at::Tensor rois_for(const at::Tensor& rois, at::ScalarType dtype) {
  const at::ScalarType compute = dtype == at::kDouble ? at::kDouble : at::kFloat;
  return rois.to(compute).contiguous();
}

}  // namespace roi

TVX_LIBRARY(m) {
  m.def("roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
        "int sampling_ratio, bool aligned) -> Tensor");
  m.def("_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, SymInt pooled_height, "
        "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width, int sampling_ratio, "
        "bool aligned) -> Tensor");
  m.def("roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width) -> "
        "(Tensor, Tensor)");
  m.def("_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, SymInt pooled_height, "
        "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width) -> Tensor");
  m.def("ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
        "int sampling_ratio) -> (Tensor, Tensor)");
  m.def("_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
        "SymInt pooled_height, SymInt pooled_width, int sampling_ratio, SymInt batch_size, SymInt channels, "
        "SymInt height, SymInt width) -> Tensor");
  m.def("ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width) -> "
        "(Tensor, Tensor)");
  m.def("_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
        "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, "
        "SymInt width) -> Tensor");
}

using c10::SymInt;

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, std::int64_t pooled_height,
                     std::int64_t pooled_width, std::int64_t sampling_ratio, bool aligned) {
  return core::call_op<"tvx::roi_align",
                       at::Tensor(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt, std::int64_t, bool)>(
      input, rois, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), sampling_ratio, aligned);
}

at::Tensor roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                              std::int64_t channels, std::int64_t height, std::int64_t width,
                              std::int64_t sampling_ratio, bool aligned) {
  return core::call_op<"tvx::_roi_align_backward",
                       at::Tensor(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt, SymInt, SymInt, SymInt,
                                  SymInt, std::int64_t, bool)>(
      grad, rois, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), SymInt(batch_size), SymInt(channels),
      SymInt(height), SymInt(width), sampling_ratio, aligned);
}

std::tuple<at::Tensor, at::Tensor> roi_pool(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                            std::int64_t pooled_height, std::int64_t pooled_width) {
  return core::call_op<"tvx::roi_pool",
                       std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt)>(
      input, rois, spatial_scale, SymInt(pooled_height), SymInt(pooled_width));
}

at::Tensor roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& argmax,
                             double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                             std::int64_t batch_size, std::int64_t channels, std::int64_t height,
                             std::int64_t width) {
  return core::call_op<"tvx::_roi_pool_backward",
                       at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                  SymInt, SymInt, SymInt, SymInt)>(
      grad, rois, argmax, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), SymInt(batch_size),
      SymInt(channels), SymInt(height), SymInt(width));
}

std::tuple<at::Tensor, at::Tensor> ps_roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                                std::int64_t pooled_height, std::int64_t pooled_width,
                                                std::int64_t sampling_ratio) {
  return core::call_op<"tvx::ps_roi_align", std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                               double, SymInt, SymInt, std::int64_t)>(
      input, rois, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), sampling_ratio);
}

at::Tensor ps_roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& channel_mapping,
                                 double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                                 std::int64_t sampling_ratio, std::int64_t batch_size, std::int64_t channels,
                                 std::int64_t height, std::int64_t width) {
  return core::call_op<"tvx::_ps_roi_align_backward",
                       at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                  std::int64_t, SymInt, SymInt, SymInt, SymInt)>(
      grad, rois, channel_mapping, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), sampling_ratio,
      SymInt(batch_size), SymInt(channels), SymInt(height), SymInt(width));
}

std::tuple<at::Tensor, at::Tensor> ps_roi_pool(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                                               std::int64_t pooled_height, std::int64_t pooled_width) {
  return core::call_op<"tvx::ps_roi_pool",
                       std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, double, SymInt, SymInt)>(
      input, rois, spatial_scale, SymInt(pooled_height), SymInt(pooled_width));
}

at::Tensor ps_roi_pool_backward(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor& channel_mapping,
                                double spatial_scale, std::int64_t pooled_height, std::int64_t pooled_width,
                                std::int64_t batch_size, std::int64_t channels, std::int64_t height,
                                std::int64_t width) {
  return core::call_op<"tvx::_ps_roi_pool_backward",
                       at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, SymInt, SymInt,
                                  SymInt, SymInt, SymInt, SymInt)>(
      grad, rois, channel_mapping, spatial_scale, SymInt(pooled_height), SymInt(pooled_width), SymInt(batch_size),
      SymInt(channels), SymInt(height), SymInt(width));
}

}  // namespace tvx::ops

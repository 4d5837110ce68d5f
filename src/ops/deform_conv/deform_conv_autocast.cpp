// deform_conv2d under autocast: torchvision casts every argument to float32 and the result
// back; tvx's kernels read float16/bfloat16 natively (bilinear samples in float32, rounded
// once into the columns; matrix products with float32 accumulation), so the op runs in the
// autocast dtype, as PyTorch's own convolutions do.
#include <tvx/ops.h>

#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops::deform_conv {
namespace {

template <c10::DeviceType Device>
void register_autocast(torch::Library& m) {
  m.impl("deform_conv2d", core::autocast_lower<Device, static_cast<at::Tensor (*)(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, std::int64_t,
      std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, bool)>(
      &tvx::ops::deform_conv2d)>);
  m.impl("_deform_conv2d_backward", core::autocast_lower<Device, &tvx::ops::deform_conv2d_backward>);
}

}  // namespace

TVX_LIBRARY_IMPL(AutocastCPU, m) { register_autocast<c10::DeviceType::CPU>(m); }
TVX_LIBRARY_IMPL(AutocastCUDA, m) { register_autocast<c10::DeviceType::CUDA>(m); }

}  // namespace tvx::ops::deform_conv

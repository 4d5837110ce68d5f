// The roi family under autocast. torchvision casts input and rois to float32 and the
// result back; tvx's kernels read float16/bfloat16 directly and accumulate in float32, so
// here only the RoIs are made float32 (their coordinates would lose pixels in 16 bits) and
// the op runs natively: the same values as the float32 path up to the final rounding, at
// half the memory traffic. float64 arguments are left as they are, as autocast does.
#include <tvx/ops.h>

#include "core/registration.h"

namespace tvx::ops::roi {
namespace {

template <c10::DeviceType Device, auto Entry, typename Sig>
struct AutocastNative;

template <c10::DeviceType Device, auto Entry, typename R, typename... Rest>
struct AutocastNative<Device, Entry, R(const at::Tensor&, const at::Tensor&, Rest...)> {
  static R call(const at::Tensor& data, const at::Tensor& rois, Rest... rest) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(at::autocast::get_autocast_dispatch_key_from_device_type(Device));
    const bool cast = data.scalar_type() != at::kDouble && at::isFloatingType(rois.scalar_type()) &&
                      rois.device().type() == Device;
    return Entry(data, cast ? rois.to(at::kFloat) : rois, rest...);
  }
};

template <c10::DeviceType Device, auto Entry>
constexpr auto native = &AutocastNative<Device, Entry, std::remove_pointer_t<decltype(Entry)>>::call;

template <c10::DeviceType Device>
void register_autocast(torch::Library& m) {
  m.impl("roi_align", native<Device, &roi_align>);
  m.impl("_roi_align_backward", native<Device, &roi_align_backward>);
  m.impl("roi_pool", native<Device, &roi_pool>);
  m.impl("_roi_pool_backward", native<Device, &roi_pool_backward>);
  m.impl("ps_roi_align", native<Device, &ps_roi_align>);
  m.impl("_ps_roi_align_backward", native<Device, &ps_roi_align_backward>);
  m.impl("ps_roi_pool", native<Device, &ps_roi_pool>);
  m.impl("_ps_roi_pool_backward", native<Device, &ps_roi_pool_backward>);
}

}  // namespace

TVX_LIBRARY_IMPL(AutocastCPU, m) { register_autocast<c10::DeviceType::CPU>(m); }
TVX_LIBRARY_IMPL(AutocastCUDA, m) { register_autocast<c10::DeviceType::CUDA>(m); }

}  // namespace tvx::ops::roi

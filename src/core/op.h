// From a schema to C++: the typed entry point of an operator and its autocast kernel,
// without hand-written dispatcher code.
//
//   at::Tensor nms(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
//     return core::call_op<"tvx::nms", decltype(nms)>(dets, scores, iou_threshold);
//   }
//   TVX_LIBRARY_IMPL(AutocastCUDA, m) { m.impl("nms", core::autocast_fp32<c10::DeviceType::CUDA, &nms>); }
#pragma once

#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/grad_mode.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tvx::core {

/// A string literal usable as a template argument: the qualified operator name.
template <std::size_t N>
struct OpName {
  char value[N];
  constexpr OpName(const char (&s)[N]) { std::copy_n(s, N, value); }  // NOLINT: implicit on purpose
};

/// The operator's typed handle, looked up once. Sig is the C++ function type of the
/// entry point; the dispatcher checks it against the schema on the first lookup.
template <OpName Name, typename Sig>
const c10::TypedOperatorHandle<Sig>& op_handle() {
  static const auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(Name.value, "").template typed<Sig>();
  return handle;
}

/// Calls the operator through the dispatcher (so every backend, autograd, autocast and
/// tracing apply), with the C++ signature Sig.
template <OpName Name, typename Sig, typename... Args>
decltype(auto) call_op(Args&&... args) {
  return op_handle<Name, Sig>().call(std::forward<Args>(args)...);
}

/// Inside a transform: autocast off, so that the transform computes in the image's dtype as
/// it does outside autocast (conv2d, pow and grid_sampler are on autocast's lists and would
/// round differently or hand back float32).
struct NoAutocast {
  c10::impl::ExcludeDispatchKeyGuard guard{c10::autocast_dispatch_keyset};
};

namespace detail {

// A tensor argument cast to `to` as autocast casts (floating, not float64, on `device`);
// `first` records the first floating tensor's dtype. Other arguments pass through.
template <typename T>
decltype(auto) autocast_arg(T&& a, at::ScalarType to, c10::DeviceType device, std::optional<at::ScalarType>& first) {
  if constexpr (std::is_same_v<std::decay_t<T>, at::Tensor>) {
    if (!first && a.defined() && at::isFloatingType(a.scalar_type())) first = a.scalar_type();
    return at::autocast::cached_cast(to, a, device);
  } else {
    return std::forward<T>(a);
  }
}

template <c10::DeviceType Device, auto Entry, typename Sig>
struct AutocastFp32;

template <c10::DeviceType Device, auto Entry, typename R, typename... Args>
struct AutocastFp32<Device, Entry, R(Args...)> {
  static R call(Args... args) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(at::autocast::get_autocast_dispatch_key_from_device_type(Device));
    std::optional<at::ScalarType> first;
    // Braced initialisation evaluates the casts left to right, so `first` is the first
    // floating tensor argument's dtype.
    auto cast = std::tuple<decltype(autocast_arg(std::forward<Args>(args), at::kFloat, Device, first))...>{
        autocast_arg(std::forward<Args>(args), at::kFloat, Device, first)...};
    R out = std::apply([](auto&&... a) { return Entry(std::forward<decltype(a)>(a)...); }, std::move(cast));
    if constexpr (std::is_same_v<R, at::Tensor>) {
      if (first && out.defined() && at::isFloatingType(out.scalar_type()) && out.scalar_type() != *first)
        return out.to(*first);
    }
    return out;
  }
};

template <c10::DeviceType Device, auto Entry, typename Sig>
struct AutocastLower;

template <c10::DeviceType Device, auto Entry, typename R, typename... Args>
struct AutocastLower<Device, Entry, R(Args...)> {
  static R call(Args... args) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(at::autocast::get_autocast_dispatch_key_from_device_type(Device));
    const at::ScalarType lower = at::autocast::get_autocast_dtype(Device);
    std::optional<at::ScalarType> first;  // unused: the result stays in the low dtype
    return Entry(autocast_arg(std::forward<Args>(args), lower, Device, first)...);
  }
};

}  // namespace detail

/// Autocast kernel that runs Entry in the autocast dtype (float16 or bfloat16), as PyTorch's
/// convolutions do: float32 tensor arguments on `Device` are cast down (float64 ones are left
/// alone), for ops whose kernels compute float16/bfloat16 natively with float32 sums.
template <c10::DeviceType Device, auto Entry>
inline constexpr auto autocast_lower =
    &detail::AutocastLower<Device, Entry, std::remove_pointer_t<decltype(Entry)>>::call;

/// Autocast kernel for the entry point Entry: floating tensor arguments on `Device` are
/// cast to float32 (as torchvision's autocast kernels do), the op runs with autocast off,
/// and a floating result is cast back to the dtype of the first floating argument.
template <c10::DeviceType Device, auto Entry>
inline constexpr auto autocast_fp32 =
    &detail::AutocastFp32<Device, Entry, std::remove_pointer_t<decltype(Entry)>>::call;

namespace detail {

template <typename A>
bool requires_grad(const A& a) {
  if constexpr (std::is_same_v<std::decay_t<A>, at::Tensor>)
    return a.defined() && a.requires_grad();
  else
    return false;
}

}  // namespace detail

/// The Autograd kernel of a backward operator that has no gradient of its own: it refuses
/// to record a graph (double backward) with an error that says so, else runs the kernel.
/// Checked: the incoming gradient (the first argument), or with AllTensors every tensor
/// argument (for ops differentiable in their saved inputs too).
///   m.impl("_roi_align_backward", &core::NoDoubleBackward<"tvx::_roi_align_backward", Sig>::call);
template <OpName Name, typename Sig, bool AllTensors = false>
struct NoDoubleBackward;

template <OpName Name, bool AllTensors, typename R, typename... Args>
struct NoDoubleBackward<Name, R(Args...), AllTensors> {
  static R call(Args... args) {
    bool needs_grad;
    if constexpr (AllTensors)
      needs_grad = (detail::requires_grad(args) || ...);
    else
      needs_grad = detail::requires_grad(std::get<0>(std::forward_as_tuple(args...)));
    TORCH_CHECK(!(needs_grad && at::GradMode::is_enabled()), "tvx.", Name.value + 5,
                ": double backward is not supported (the gradient of this backward operator is not implemented); "
                "call backward without create_graph=True");
    at::AutoDispatchBelowADInplaceOrView below;
    return call_op<Name, R(Args...)>(args...);
  }
};

}  // namespace tvx::core

// Argument checks in tvx's error style: "<op>: <argument> must <expectation>, got <value>".
// `op` is the public name ("tvx.nms"); every check throws c10::Error (RuntimeError in
// Python) and costs nothing on success beyond the comparison.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace tvx::core {

/// A tensor argument and the name the user knows it by.
struct Arg {
  const char* name;
  const at::Tensor& tensor;
};

/// "float32", "int64", ...: the names Python users see.
const char* dtype_name(at::ScalarType t);

/// `sizes` with -1 for "any"; `shape` spells it for the message ("[N, 4]").
/// Message: "tvx.nms: boxes must have shape [N, 4], got [3, 5]".
void check_shape(const char* op, const Arg& a, std::initializer_list<std::int64_t> sizes, const char* shape);

/// Rank among `ranks`; `shape` says what was expected ("[N, C, H, W]").
void check_rank(const char* op, const Arg& a, std::initializer_list<std::int64_t> ranks, const char* shape);

/// dtype among `dtypes`: "tvx.nms: boxes must be float32, float64, float16 or bfloat16, got int64".
void check_dtype(const char* op, const Arg& a, std::initializer_list<at::ScalarType> dtypes);

/// float32, float64, float16 or bfloat16.
void check_floating(const char* op, const Arg& a);

/// All of `args` have the dtype of the first.
void check_same_dtype(const char* op, std::initializer_list<Arg> args);

/// All of `args` are on the device of the first.
void check_same_device(const char* op, std::initializer_list<Arg> args);

/// `a` is on a device of `type`: "tvx.nms: boxes must be a CUDA tensor, got cpu".
void check_device_type(const char* op, const Arg& a, c10::DeviceType type);

/// A finite scalar argument: "tvx.roi_align: spatial_scale must be finite, got nan".
void check_finite(const char* op, const char* name, double value);

}  // namespace tvx::core

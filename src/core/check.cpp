#include "core/check.h"

#include <cmath>

namespace tvx::core {
namespace {

std::string join_or(const std::string* items, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + items[i];
  return s;
}

}  // namespace

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kByte: return "uint8";
    case at::kChar: return "int8";
    case at::kShort: return "int16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    default: return c10::toString(t);
  }
}

void check_shape(const char* op, const Arg& a, std::initializer_list<std::int64_t> sizes, const char* shape) {
  bool ok = a.tensor.dim() == static_cast<std::int64_t>(sizes.size());
  std::int64_t d = 0;
  for (auto it = sizes.begin(); ok && it != sizes.end(); ++it, ++d) ok = *it < 0 || a.tensor.size(d) == *it;
  TORCH_CHECK(ok, op, ": ", a.name, " must have shape ", shape, ", got ", a.tensor.sizes());
}

void check_rank(const char* op, const Arg& a, std::initializer_list<std::int64_t> ranks, const char* shape) {
  for (auto r : ranks)
    if (a.tensor.dim() == r) return;
  TORCH_CHECK(false, op, ": ", a.name, " must have shape ", shape, ", got ", a.tensor.sizes());
}

void check_dtype(const char* op, const Arg& a, std::initializer_list<at::ScalarType> dtypes) {
  for (auto t : dtypes)
    if (a.tensor.scalar_type() == t) return;
  std::string names[16];
  std::size_t n = 0;
  for (auto t : dtypes)
    if (n < 16) names[n++] = dtype_name(t);
  TORCH_CHECK(false, op, ": ", a.name, " must be ", join_or(names, n), ", got ", dtype_name(a.tensor.scalar_type()));
}

void check_floating(const char* op, const Arg& a) {
  check_dtype(op, a, {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16});
}

void check_same_dtype(const char* op, std::initializer_list<Arg> args) {
  const Arg& first = *args.begin();
  for (const Arg& a : args)
    TORCH_CHECK(a.tensor.scalar_type() == first.tensor.scalar_type(), op, ": ", first.name, " and ", a.name,
                " must have the same dtype, got ", dtype_name(first.tensor.scalar_type()), " and ",
                dtype_name(a.tensor.scalar_type()));
}

void check_same_device(const char* op, std::initializer_list<Arg> args) {
  const Arg& first = *args.begin();
  for (const Arg& a : args)
    TORCH_CHECK(a.tensor.device() == first.tensor.device(), op, ": ", first.name, " and ", a.name,
                " must be on the same device, got ", first.tensor.device(), " and ", a.tensor.device());
}

void check_device_type(const char* op, const Arg& a, c10::DeviceType type) {
  TORCH_CHECK(a.tensor.device().type() == type, op, ": ", a.name, " must be a ", c10::DeviceTypeName(type),
              " tensor, got ", a.tensor.device());
}

void check_finite(const char* op, const char* name, double value) {
  TORCH_CHECK(std::isfinite(value), op, ": ", name, " must be finite, got ", value);
}

}  // namespace tvx::core

// The shared contract every tvx operator's C++ tests run, on CPU and CUDA: an op's test
// file describes the op (how to make inputs, how to call it, a plain reference, what is
// differentiable, bad inputs and their messages) and instantiates the fixture:
//
//   INSTANTIATE_TEST_SUITE_P(Nms, Contract, ::testing::ValuesIn(tvx::test::checks(nms_contract())),
//                            tvx::test::check_name);
//
// Checks: parity with the reference, empty input, non-contiguous input, channels_last
// input, autocast, gradients (finite differences in float64) or no gradient where the op
// has none, and bad inputs. CUDA cases skip when no GPU is present and run on the GPU machine.
#pragma once

#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tvx::test {

using Inputs = std::vector<at::Tensor>;

struct BadInput {
  std::string what;                    ///< "boxes [3, 5]"
  std::function<Inputs()> make;        ///< on the CPU; moved to the device under test
  std::string message;                 ///< a substring the error must contain
  /// Checked on the CPU only: on CUDA the kernel asserts instead (a device-side assert ends
  /// the process's CUDA context, so its test runs in a child process).
  bool cpu_only = false;
};

struct OpContract {
  std::string name;
  /// n items (0: empty input), on the CPU.
  std::function<Inputs(std::int64_t n, std::uint64_t seed)> make;
  /// Calls tvx's C++ entry point.
  std::function<at::Tensor(const Inputs&)> call;
  /// The definition, written plainly, on CPU inputs.
  std::function<at::Tensor(const Inputs&)> reference;
  double rtol = 0, atol = 0;
  std::vector<std::int64_t> sizes{1, 17, 300};
  /// Inputs the op is differentiable in (gradcheck in float64); empty: no gradient, and
  /// the test checks that the output carries none.
  std::vector<std::size_t> grad_inputs;
  /// The op registers an autocast kernel that computes in float32 (as torchvision's).
  bool autocast_fp32 = false;
  std::vector<BadInput> bad;
};

enum class Check { parity, empty, non_contiguous, channels_last, autocast, gradients, bad_inputs };

struct CheckCase {
  OpContract op;
  c10::DeviceType device;
  Check check;
};

/// Every check on CPU and CUDA.
std::vector<CheckCase> checks(const OpContract& op);
/// gtest's name for a case: "parity_cuda".
std::string check_name(const ::testing::TestParamInfo<CheckCase>& info);

class Contract : public ::testing::TestWithParam<CheckCase> {};

/// The message (without backtrace) of the c10::Error that f throws; "" when it throws none.
std::string error_of(const std::function<void()>& f);

}  // namespace tvx::test

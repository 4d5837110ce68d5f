// Private to src/io/nvjpeg: one nvJPEG handle per device, created on first use and kept for the
// process (the library's handles are expensive: pinned and device pools, the hardware engine's
// queues). Each holds a mutex: one caller at a time uses a device's decoder or encoder state.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cuda_runtime_api.h>
#include <nvjpeg.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tvx::io::nvjpeg {

const char* status_name(nvjpegStatus_t status);

#define TVX_NVJPEG_CHECK(op, call)                                                                       \
  do {                                                                                                  \
    const nvjpegStatus_t tvx_status_ = (call);                                                          \
    TORCH_CHECK(tvx_status_ == NVJPEG_STATUS_SUCCESS, op, ": nvJPEG failed in ", #call, ": ",           \
                ::tvx::io::nvjpeg::status_name(tvx_status_));                                           \
  } while (0)

/// A device's nvJPEG handle: the hardware backend where the GPU has JPEG engines (A100, H100,
/// ...), else the default (GPU hybrid) backend. TVX_NVJPEG_BACKEND=gpu forces the latter.
struct Handle {
  nvjpegHandle_t handle = nullptr;
  bool hardware = false;
  unsigned engines = 0, cores_per_engine = 0;
  std::string describe() const;
};

/// The handle of `device` (a CUDA device index), created on first use.
const Handle& handle(int device);

/// One T per device, made by create(device) on first use and kept to the process's exit (CUDA
/// may be torn down before static destructors run).
template <typename T>
class PerDevice {
 public:
  template <typename Create>
  T& get(int device, const Create& create) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (slots_.size() <= std::size_t(device)) slots_.resize(std::size_t(device) + 1);
    if (!slots_[device]) slots_[device] = create(device);
    return *slots_[device];
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> slots_;
};

}  // namespace tvx::io::nvjpeg

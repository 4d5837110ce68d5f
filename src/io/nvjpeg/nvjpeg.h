// Private to src/io/nvjpeg: one nvJPEG handle per device, created on first use and kept for the
// process (the library's handles are expensive: pinned and device pools, the hardware engine's
// queues). Each holds a mutex: one caller at a time uses a device's decoder or encoder state.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <c10/cuda/CUDAException.h>
#include <cuda_runtime_api.h>
#include <nvjpeg.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tvx::io::nvjpeg {

// The nvJPEG functions tvx calls. libtvx does not link nvJPEG: api() loads it on first use, so
// libtvx loads where nvJPEG is absent and only the GPU JPEG forms fail there, saying why.
#define TVX_NVJPEG_FUNCTIONS(X) \
  X(nvjpegBufferDeviceCreate) \
  X(nvjpegBufferPinnedCreate) \
  X(nvjpegCreateEx) \
  X(nvjpegCreateSimple) \
  X(nvjpegDecodeBatched) \
  X(nvjpegDecodeBatchedInitialize) \
  X(nvjpegDecodeBatchedSupported) \
  X(nvjpegDecodeJpegDevice) \
  X(nvjpegDecodeJpegHost) \
  X(nvjpegDecodeJpegTransferToDevice) \
  X(nvjpegDecodeParamsCreate) \
  X(nvjpegDecodeParamsSetOutputFormat) \
  X(nvjpegDecoderCreate) \
  X(nvjpegDecoderJpegSupported) \
  X(nvjpegDecoderStateCreate) \
  X(nvjpegEncodeImage) \
  X(nvjpegEncodeRetrieveBitstreamDevice) \
  X(nvjpegEncodeYUV) \
  X(nvjpegEncoderParamsCreate) \
  X(nvjpegEncoderParamsSetOptimizedHuffman) \
  X(nvjpegEncoderParamsSetQuality) \
  X(nvjpegEncoderParamsSetSamplingFactors) \
  X(nvjpegEncoderStateCreate) \
  X(nvjpegGetHardwareDecoderInfo) \
  X(nvjpegGetProperty) \
  X(nvjpegJpegStateCreate) \
  X(nvjpegJpegStreamCreate) \
  X(nvjpegJpegStreamGetChromaSubsampling) \
  X(nvjpegJpegStreamGetComponentDimensions) \
  X(nvjpegJpegStreamGetComponentsNum) \
  X(nvjpegJpegStreamGetFrameDimensions) \
  X(nvjpegJpegStreamGetJpegEncoding) \
  X(nvjpegJpegStreamParse) \
  X(nvjpegJpegStreamParseHeader) \
  X(nvjpegStateAttachDeviceBuffer) \
  X(nvjpegStateAttachPinnedBuffer)

struct Api {
#define TVX_NVJPEG_POINTER(name) decltype(&::name) name = nullptr;
  TVX_NVJPEG_FUNCTIONS(TVX_NVJPEG_POINTER)
#undef TVX_NVJPEG_POINTER
};

/// nvJPEG's functions, from libnvjpeg.so.<major> as the dynamic loader finds it (libtvx's run
/// path, which holds the directory the build found it in; LD_LIBRARY_PATH), else from that
/// directory itself. Throws, naming the library, where it cannot be loaded.
const Api& api();

const char* status_name(nvjpegStatus_t status);

#define TVX_NVJPEG_CHECK(op, call)                                                                       \
  do {                                                                                                  \
    const nvjpegStatus_t tvx_status_ = (call);                                                          \
    TORCH_CHECK(tvx_status_ == NVJPEG_STATUS_SUCCESS, op, ": nvJPEG failed in ", #call, ": ",           \
                ::tvx::io::nvjpeg::status_name(tvx_status_));                                           \
  } while (0)

/// A device's nvJPEG handle: the hardware backend where the GPU has JPEG engines (A100, H100,
/// ...), else the default (GPU hybrid) backend. TVX_NVJPEG_BACKEND=gpu forces the latter.
/// On the hardware backend, the files the engine refuses (progressive) go to nvJPEG's
/// decoupled decoder beside the engine (decoupled_handle), or with TVX_NVJPEG_REFUSED=cpu to
/// libjpeg on CPU threads (exact, slower: 233 against 51 ms for the mixed 2560x1600 batch).
struct Handle {
  nvjpegHandle_t handle = nullptr;
  bool hardware = false;
  bool refused_on_decoupled = false;  // hardware only: unless TVX_NVJPEG_REFUSED=cpu
  unsigned engines = 0, cores_per_engine = 0;
  std::string describe() const;
};

/// The handle of `device` (a CUDA device index), created on first use.
const Handle& handle(int device);

/// A handle of the default (GPU hybrid) backend for nvJPEG's decoupled decoder: handle(device)
/// itself where that is not the hardware backend, else a second handle, created on first use,
/// so that the decoupled decoder takes the files the engine refuses while the engine decodes
/// the rest (two callers at once on one handle corrupt nvJPEG's state).
const Handle& decoupled_handle(int device);

/// Orders the uses of one nvJPEG state (its pinned and device buffers) across the callers'
/// streams. Under the state's mutex, a `StreamOrder::Use use(order, stream);` first waits on
/// the host for the previous use's work if it ran on another stream (nvJPEG's host stage
/// refills pinned buffers too, so a device-side wait is not enough; on the same stream, stream
/// order suffices). When `use` ends, this call's work is recorded as the last use.
class StreamOrder {
 public:
  class Use {
   public:
    Use(StreamOrder& order, cudaStream_t stream) : order_(order), stream_(stream) {
      if (order_.last_stream_ != stream_) C10_CUDA_CHECK(cudaEventSynchronize(order_.last_use_));
      order_.last_stream_ = stream_;
    }
    Use(const Use&) = delete;
    ~Use() { (void)cudaEventRecord(order_.last_use_, stream_); }

   private:
    StreamOrder& order_;
    cudaStream_t stream_;
  };

  StreamOrder() { C10_CUDA_CHECK(cudaEventCreateWithFlags(&last_use_, cudaEventDisableTiming)); }
  StreamOrder(const StreamOrder&) = delete;

 private:
  cudaEvent_t last_use_ = nullptr;
  cudaStream_t last_stream_ = nullptr;
};

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

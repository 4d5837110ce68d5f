// Reading the files Python's torch.save writes (a zip archive: data.pkl, a pickle, and
// data/<key>, one raw record per storage) without Python. LibTorch's own unpickler turns
// collections.OrderedDict into None, so a state dict (an OrderedDict with a _metadata
// attribute) cannot be read with torch::pickle_load; this reader understands the subset of
// pickle that torch.save emits for dicts, lists and tuples of tensors and plain values.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace tvx::models::detail {

/// The (name, tensor) entries of a dict saved by torch.save, in file order, on the CPU.
/// Throws c10::Error naming `path` when the file is not such a dict.
std::vector<std::pair<std::string, at::Tensor>> load_tensor_dict(const std::string& path);

}  // namespace tvx::models::detail

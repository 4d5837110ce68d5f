// State-dict loading: the torch.save file is read by detail::load_tensor_dict and copied
// name by name into the module's parameters and buffers.
#include <tvx/models.h>

#include "models/torch_pickle.h"

#include <set>
#include <sstream>

namespace tvx::models {

void load_state_dict(torch::nn::Module& module, const std::string& path, bool strict) {
  const auto entries = detail::load_tensor_dict(path);

  auto targets = module.named_parameters(/*recurse=*/true);
  for (const auto& b : module.named_buffers(/*recurse=*/true)) targets.insert(b.key(), b.value());

  std::vector<std::string> unexpected, mismatched;
  std::set<std::string> loaded_names;
  torch::NoGradGuard no_grad;
  for (const auto& [name, src] : entries) {
    at::Tensor* dst = targets.find(name);
    if (!dst) {
      unexpected.push_back(name);
      continue;
    }
    if (dst->sizes() != src.sizes()) {
      std::ostringstream s;
      s << name << " (file " << src.sizes() << ", model " << dst->sizes() << ")";
      mismatched.push_back(s.str());
      continue;
    }
    dst->copy_(src);
    loaded_names.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& t : targets)
    if (!loaded_names.count(t.key())) missing.push_back(t.key());

  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  TORCH_CHECK(mismatched.empty(), "tvx.models.load_state_dict: shape mismatch for ", join(mismatched));
  if (strict) {
    TORCH_CHECK(missing.empty() && unexpected.empty(), "tvx.models.load_state_dict: '", path,
                "' does not match the model; missing: [", join(missing), "]; unexpected: [", join(unexpected), "]");
  }
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto convert = [](at::Tensor& t) {
    if (t.dim() == 4) t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
  };
  for (auto& p : module.parameters(true)) convert(p);
  for (auto& b : module.buffers(true)) convert(b);
}

}  // namespace tvx::models

// State-dict loading: the torch.save file is read by detail::load_tensor_dict, every name
// and shape is checked against the module, and only then is anything copied: a file that
// does not fit leaves the module as it was.
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
  std::vector<std::pair<at::Tensor*, const at::Tensor*>> copies;
  std::set<std::string> matched;
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
    copies.emplace_back(dst, &src);
    matched.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& t : targets)
    if (!matched.count(t.key())) missing.push_back(t.key());

  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  TORCH_CHECK(mismatched.empty(), "tvx.models.load_state_dict: shape mismatch for ", join(mismatched),
              "; nothing was loaded");
  if (strict) {
    TORCH_CHECK(missing.empty() && unexpected.empty(), "tvx.models.load_state_dict: '", path,
                "' does not match the model; missing: [", join(missing), "]; unexpected: [", join(unexpected),
                "]; nothing was loaded");
  }
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst->copy_(*src);
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

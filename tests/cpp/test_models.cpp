#include <tvx/models.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <cstdio>
#include <fstream>

namespace {

TEST(ResNet, TorchvisionNames) {
  auto net = tvx::models::resnet50();
  const auto params = net->named_parameters();
  for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv3.weight", "layer1.0.downsample.0.weight",
                           "layer1.0.downsample.1.bias", "layer4.2.bn3.weight", "fc.weight", "fc.bias"})
    EXPECT_NE(params.find(name), nullptr) << name;
  EXPECT_NE(net->named_buffers().find("layer3.5.bn2.num_batches_tracked"), nullptr);
  EXPECT_EQ(net->named_parameters().find("layer1.0.conv3.weight")->sizes(), (at::IntArrayRef{256, 64, 1, 1}));
}

TEST(ResNet, ParameterCountsMatchTorchvision) {
  // Counts torchvision reports (sum of p.numel() over parameters()).
  auto count = [](tvx::models::ResNet net) {
    std::int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  };
  EXPECT_EQ(count(tvx::models::resnet18()), 11689512);
  EXPECT_EQ(count(tvx::models::resnet50()), 25557032);
  EXPECT_EQ(count(tvx::models::resnet("resnext50_32x4d")), 25028904);
}

TEST(ResNet, ForwardShape) {
  auto net = tvx::models::resnet18(10);
  net->eval();
  EXPECT_EQ(net->forward(at::rand({2, 3, 64, 64})).sizes(), (at::IntArrayRef{2, 10}));
  EXPECT_THROW(net->forward(at::rand({2, 1, 64, 64})), c10::Error);
  EXPECT_THROW(tvx::models::resnet("resnet7"), c10::Error);
}

TEST(LoadStateDict, Errors) {
  auto net = tvx::models::resnet18();
  EXPECT_THROW(tvx::models::load_state_dict(*net, "/nonexistent/weights.pt"), c10::Error);
  const std::string path = ::testing::TempDir() + "tvx_not_a_state_dict.pt";
  { std::ofstream(path) << "not a torch.save file"; }
  EXPECT_THROW(tvx::models::load_state_dict(*net, path), c10::Error);
  std::remove(path.c_str());
}

}  // namespace

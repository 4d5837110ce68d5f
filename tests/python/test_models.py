"""tvx's C++ ResNets load torchvision state dicts and give torchvision's logits."""
import pytest
import torch
import torchvision

import tvx  # noqa: F401


def randomized(model: torch.nn.Module) -> torch.nn.Module:
    """Every parameter and buffer random, so a swapped name cannot go unnoticed."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.dtype == torch.int64:
                t.fill_(int(torch.randint(0, 1000, (), generator=g)))
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif t.dim() == 4:  # keep activations of deep nets in range
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=g) * (1.0 / fan_in) ** 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.1 + (1.0 if name.endswith("bn1.weight") else 0.0))
    return model.eval()


@pytest.mark.parametrize("arch", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_state_dict_from_torchvision_gives_the_same_logits(tmp_path, arch):
    ref = randomized(getattr(torchvision.models, arch)())
    path = tmp_path / f"{arch}.pt"
    torch.save(ref.state_dict(), path)

    net = torch.classes.tvx.ResNet(arch, 1000)
    net.load_state_dict(str(path))
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want = ref(x)
    got = net.forward(x)
    assert got.shape == (2, 1000)
    assert want.abs().max() > 1e-2  # the comparison below is not between two zeros
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_mismatched_state_dict_is_refused(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    net = torch.classes.tvx.ResNet("resnet50", 1000)
    with pytest.raises(RuntimeError, match="tvx.models.load_state_dict"):
        net.load_state_dict(str(path))


def test_wrong_class_count_is_a_shape_error(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), path)
    net = torch.classes.tvx.ResNet("resnet18", 1000)
    with pytest.raises(RuntimeError, match=r"shape mismatch for fc.weight"):
        net.load_state_dict(str(path))

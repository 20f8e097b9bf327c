using System.Runtime.CompilerServices;
using Fovea;
using Fovea.Nn;
using Fovea.Serialization;
using Fovea.Tests.Support;

namespace Fovea.Tests.Interop;

/// <summary>
/// State dicts move between Fovea and PyTorch through safetensors, for every zoo model, both ways.
/// The PyTorch side is Fixtures/gen_interop.py; the Fovea side of the fixtures is written by
/// <see cref="FoveaWritesTheCommittedModelFile"/> when FOVEA_WRITE_FIXTURES=1.
/// </summary>
public class StateDictInteropTests
{
    private static readonly Dictionary<string, (int C, int H, int W)> Inputs = new()
    {
        ["mlp"] = (1, 12, 12), ["lenet5"] = (1, 12, 12), ["cnn-small"] = (1, 12, 12), ["cnn-tiny"] = (1, 12, 12),
        ["lc-small"] = (1, 8, 8), ["cnn-bn"] = (1, 12, 12), ["resnet8"] = (3, 12, 12), ["resnet20"] = (3, 12, 12),
    };

    public static TheoryData<string> Models => new(Zoo.Names);

    private static string Committed(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "interop", file);

    private static string SourceFolder([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "..", "Fixtures", "interop");

    /// <summary>The model whose state dict Fovea saves for PyTorch: seeded init, BN statistics made non-trivial.</summary>
    private static Sequential FoveaModel(string name, out Tensor input)
    {
        var (c, h, w) = Inputs[name];
        var rng = new Rng(1);
        var model = Zoo.Create(name, c, h, w, rng: rng);
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is not BatchNormBase bn) continue;
            Init.Uniform(bn.Weight!, 0.5f, 1.5f, rng);
            Init.Uniform(bn.Bias!, -0.5f, 0.5f, rng);
            Init.Uniform(bn.RunningMean!, -0.5f, 0.5f, rng);
            Init.Uniform(bn.RunningVar!, 0.5f, 1.5f, rng);
            bn.NumBatchesTracked!.Span[0] = 7;
        }
        model.Eval();
        input = Tensor.Normal(new TensorShape(2, c, h, w), 0, 1, rng);
        return model;
    }

    private static Tensor Logits(Module model, Tensor input)
    {
        using var _ = Autograd.NoGrad();
        return model.Forward(input);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void FoveaWritesTheCommittedModelFile(string name)
    {
        var model = FoveaModel(name, out var input);
        var temp = Path.Combine(Path.GetTempPath(), $"fovea-interop-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelFile.Save(temp, model);
            if (Environment.GetEnvironmentVariable("FOVEA_WRITE_FIXTURES") == "1")
            {
                Directory.CreateDirectory(SourceFolder());
                File.Copy(temp, Path.Combine(SourceFolder(), $"fovea_{name}.safetensors"), overwrite: true);
                SafeTensors.Save(Path.Combine(SourceFolder(), $"fovea_{name}.io.safetensors"),
                    new Dictionary<string, Tensor> { ["input"] = input, ["logits"] = Logits(model, input) });
                return;
            }
            // Byte for byte: the file PyTorch was given is exactly what Fovea saves today.
            Assert.Equal(File.ReadAllBytes(Committed($"fovea_{name}.safetensors")), File.ReadAllBytes(temp));
            var io = SafeTensors.Load(Committed($"fovea_{name}.io.safetensors"));
            TensorAssert.Equal(io.ToTensor("input"), input, "input");
        }
        finally
        {
            File.Delete(temp);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void FoveaStateDictGivesPyTorchsLogits(string name)
    {
        // The committed file loads with no user code (spec in the metadata), and PyTorch, after
        // load_state_dict(strict=True) of the same file, computed these logits from the same input.
        var model = ModelFile.Load(Committed($"fovea_{name}.safetensors"));
        model.Eval();
        var fovea = SafeTensors.Load(Committed($"fovea_{name}.io.safetensors"));
        var torch = SafeTensors.Load(Committed($"torch_{name}.io.safetensors"));
        TensorAssert.Close(torch.ToTensor("logits_from_fovea"), Logits(model, fovea.ToTensor("input")), 1e-4, 1e-5, $"{name} logits");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PyTorchStateDictGivesPyTorchsLogits(string name)
    {
        var (c, h, w) = Inputs[name];
        var model = Zoo.Create(name, c, h, w, rng: new Rng(5));
        ModelFile.LoadWeights(model, Committed($"torch_{name}.safetensors"));
        model.Eval();
        var torch = SafeTensors.Load(Committed($"torch_{name}.io.safetensors"));
        TensorAssert.Close(torch.ToTensor("logits"), Logits(model, torch.ToTensor("input")), 1e-4, 1e-5, $"{name} logits");
    }
}

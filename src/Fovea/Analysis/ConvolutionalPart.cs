using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// The fully convolutional front of a model: its leading layers (Sequentials opened up) up to the first
/// one that fixes the image size or mixes all positions — Flatten, Linear, LocallyConnected2d, global or
/// adaptive pooling, padding layers, softmax. What remains takes images of any size and each output
/// depends on a bounded window of the input, which is what tiled inference needs. For cnn-small that is
/// conv-ReLU-pool ×2; for a ResNet the stem and all residual blocks; for mlp and lc-small nothing.
/// </summary>
public static class ConvolutionalPart
{
    /// <summary>A Sequential sharing <paramref name="model"/>'s layers (and so its weights) up to the first non-local one.</summary>
    public static Sequential Of(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Sequential([.. Leaves(model, "").TakeWhile(l => IsLocal(l.Layer)).Select(l => l.Layer)]);
    }

    /// <summary>Whether <paramref name="layer"/> takes any image size and reads a bounded window per output.</summary>
    public static bool IsLocal(Module layer) => layer is Conv2d or BatchNorm2d or MaxPool2d or AvgPool2d or BasicBlock or Dropout
        or ReLU or LeakyReLU or ELU or GELU or Sigmoid or Tanh;

    /// <summary>The first layer of <paramref name="model"/> (Sequentials opened up) that is not local, with its path; null when the whole model is fully convolutional.</summary>
    public static (string Name, Module Layer)? FirstNonLocal(Module model) =>
        Leaves(model, "").Where(l => !IsLocal(l.Layer)).Select(l => ((string, Module)?)l).FirstOrDefault();

    private static IEnumerable<(string Name, Module Layer)> Leaves(Module module, string name) => module is Sequential sequential
        ? sequential.NamedChildren().SelectMany(c => Leaves(c.Module, name.Length == 0 ? c.Name : name + "." + c.Name))
        : [(name, module)];
}

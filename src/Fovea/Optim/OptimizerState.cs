namespace Fovea.Optim;

/// <summary>
/// What an optimizer needs to resume, shaped to sit in a safetensors file next to the weights:
/// <see cref="Tensors"/> named as PyTorch names its optimizer state (<c>state.{i}.exp_avg</c>,
/// <c>state.{i}.momentum_buffer</c>, <c>state.{i}.step</c> as a scalar; i is the parameter's position)
/// and text <see cref="Metadata"/> (<c>type</c>, <c>lr</c>, the other hyperparameters under PyTorch's
/// names, <c>param_count</c>, <c>param.{i}.shape</c>). Keys are bare: a checkpoint that shares a file
/// with the model's weights prefixes them.
/// </summary>
public sealed class OptimizerState(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors ?? throw new ArgumentNullException(nameof(tensors));
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata ?? throw new ArgumentNullException(nameof(metadata));

    /// <summary>Returns the tensors' storage to the pool (<see cref="Optimizer.StateDict"/> hands out copies the caller owns).</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

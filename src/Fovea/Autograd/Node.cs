namespace Fovea;

/// <summary>
/// One recorded op: its inputs, how to turn the output's gradient into the inputs' gradients
/// (accumulating, +=), and what to give back to the pool once the graph is freed.
/// </summary>
internal sealed class Node(string name, Tensor[] inputs, Action<Tensor> backward, Action? release)
{
    public string Name { get; } = name;
    public Tensor[] Inputs { get; } = inputs;
    private Action<Tensor>? _backward = backward;
    private Action? _release = release;

    public void RunBackward(Tensor outputGrad)
    {
        var b = _backward ?? throw new InvalidOperationException(
            $"Trying to backward through {Name} a second time: its saved buffers were freed. Pass retainGraph: true to the first Backward call.");
        b(outputGrad);
    }

    public void Release()
    {
        _release?.Invoke();
        _release = null;
        _backward = null;
    }
}

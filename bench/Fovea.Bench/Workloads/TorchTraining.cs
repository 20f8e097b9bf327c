using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Workloads;

/// <summary>The same training step in TorchSharp: zero_grad, forward, cross_entropy, backward, Adam step, loss.item().</summary>
public sealed class TorchTraining
{
    private readonly nn.Module<TorchTensor, TorchTensor> _model;
    private readonly BenchBatch _batch;
    private readonly optim.Optimizer _optimizer;

    public TorchTraining(nn.Module<TorchTensor, TorchTensor> model, BenchBatch batch)
    {
        _model = model;
        _batch = batch;
        _model.train();
        _optimizer = optim.Adam(model.parameters(), lr: 1e-3);
    }

    public void Step()
    {
        // Frees this step's tensors when it ends, as Fovea's DisposeGraph does.
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(_model.call(_batch.TorchImages), _batch.TorchLabels);
        loss.item<float>();
        loss.backward();
        _optimizer.step();
    }
}

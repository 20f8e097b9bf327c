using Fovea.Nn;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Workloads;

/// <summary>One forward pass in evaluation mode without gradients, per framework; <c>Logits</c> serve the honesty check.</summary>
public interface IInference
{
    void Step();
    float[] Logits();
}

public sealed class FoveaInference(Module model, Tensor images) : IInference
{
    public void Step()
    {
        using var _ = Autograd.NoGrad();
        model.Forward(images).Dispose();
    }

    public float[] Logits()
    {
        using var _ = Autograd.NoGrad();
        using var logits = model.Forward(images);
        return logits.ToArray();
    }
}

public sealed class TorchInference(nn.Module<TorchTensor, TorchTensor> model, TorchTensor images) : IInference
{
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.call(images);
    }

    public float[] Logits()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return model.call(images).data<float>().ToArray();
    }
}

/// <summary>ONNX Runtime on an in-memory model, with the input pinned once (no copy per run).</summary>
public sealed class OrtInference : IInference, IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtValue _input;
    private readonly RunOptions _run = new();
    private readonly string[] _inputNames, _outputNames;

    public OrtInference(byte[] onnx, int threads, float[] images, long[] shape)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(onnx, options);
        _input = OrtValue.CreateTensorValueFromMemory(images, shape);
        _inputNames = [.. _session.InputNames];
        _outputNames = [.. _session.OutputNames];
    }

    public void Step()
    {
        using var outputs = _session.Run(_run, _inputNames, [_input], _outputNames);
    }

    public float[] Logits()
    {
        using var outputs = _session.Run(_run, _inputNames, [_input], _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _input.Dispose();
        _run.Dispose();
        _session.Dispose();
    }
}

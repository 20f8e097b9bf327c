using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Reshape and its kind view their input's storage at inference: the executor must keep that storage alive while any
/// view of it is live, give it back once none is, and hand the caller outputs of their own.
/// </summary>
public class ViewImportTests
{
    [Fact]
    public void AViewKeepsItsStorageAfterTheLastReaderOfItsOwner()
    {
        // a's only direct reader is the Reshape; its view b is read by the Sigmoid and again at the end. Had a's storage
        // gone back to the pool after the Reshape, the Sigmoid (same size, allocated next) would have taken it and
        // overwritten b.
        var graph = new OnnxGraph(13);
        string a = graph.Node("Relu", ["x"]);
        string b = graph.Node("Reshape", [a, graph.Int64Initializer("flat", 0, -1)]);
        string c = graph.Node("Sigmoid", [b]);
        string d = graph.Node("Tanh", [c]);
        graph.NamedNode("y", "Add", [b, d]);
        var model = OnnxModel.Load(graph.ToModel("x", [2, 3, 4, 4], "y", [2, 48]));
        using var x = Tensor.Normal(new TensorShape(2, 3, 4, 4), 0f, 1f, new Rng(4));
        using var _ = Autograd.NoGrad();
        using var relu = F.Relu(x);
        using var flat = F.Reshape(relu, 2, 48);
        using var expected = F.Add(flat, F.Tanh(F.Sigmoid(flat)));
        for (int run = 0; run < 3; run++)
        {
            using var y = model.Forward(x);
            TensorAssert.Equal(expected, y);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnOutputThatViewsAnotherValueIsTheCallersOwn(bool ofTheInput)
    {
        // y views the Relu's output, or the caller's input itself.
        var graph = new OnnxGraph(13);
        graph.NamedNode("y", "Reshape", [ofTheInput ? "x" : graph.Node("Relu", ["x"]), graph.Int64Initializer("flat", 2, 12)]);
        var model = OnnxModel.Load(graph.ToModel("x", [2, 3, 2, 2], "y", [2, 12]));
        var x = Tensor.Normal(new TensorShape(2, 3, 2, 2), 0f, 1f, new Rng(5));
        var expected = x.ToArray().Select(v => ofTheInput ? v : Math.Max(v, 0f)).ToArray();
        using var _ = Autograd.NoGrad();
        using var y = model.Forward(x);
        Assert.False(y.IsBorrowed);
        x.Dispose();
        using var scribble = Tensor.Full(new TensorShape(2, 3, 2, 2), 7f); // takes x's storage back from the pool
        Assert.Equal(expected, y.ToArray());
    }
}

namespace Fovea;

/// <summary>The tape: how ops record themselves and how <see cref="Tensor.Backward"/> walks them.</summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>Whether ops record gradients on this thread.</summary>
    public static bool IsEnabled => _noGradDepth == 0;

    /// <summary>A scope in which nothing is recorded (inference): <c>using (Autograd.NoGrad()) { … }</c>.</summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope();
    }

    public readonly struct NoGradScope : IDisposable
    {
        public void Dispose() => _noGradDepth--;
    }

    /// <summary>Whether an op on these inputs must record its backward.</summary>
    public static bool NeedsGrad(Tensor a) => IsEnabled && a.RequiresGrad;
    public static bool NeedsGrad(Tensor a, Tensor? b) => IsEnabled && (a.RequiresGrad || (b?.RequiresGrad ?? false));
    public static bool NeedsGrad(Tensor a, Tensor? b, Tensor? c) => IsEnabled && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));
    public static bool NeedsGrad(ReadOnlySpan<Tensor> inputs)
    {
        if (!IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Records that <paramref name="output"/> was computed from <paramref name="inputs"/>. When no input
    /// needs a gradient nothing is recorded and <paramref name="release"/> runs at once.
    /// <paramref name="backward"/> receives dL/d(output) and must add into each input's GradSpan
    /// only where that input <see cref="Tensor.RequiresGrad"/>.
    /// </summary>
    internal static Tensor Record(Tensor output, string name, Tensor?[] inputs, Action<Tensor> backward, Action? release = null)
    {
        if (!AnyNeedsGrad(inputs))
        {
            release?.Invoke();
            return output;
        }
        output.GradFn = new Node(name, WithoutNulls(inputs), backward, release);
        output.RequiresGrad = true;
        return output;
    }

    /// <summary>Whether any of <paramref name="inputs"/> (null entries are absent optional inputs) requires grad, with recording on.</summary>
    private static bool AnyNeedsGrad(Tensor?[] inputs)
    {
        if (!IsEnabled) return false;
        foreach (var t in inputs) if (t is { RequiresGrad: true }) return true;
        return false;
    }

    /// <summary>The inputs that are present, in a copy of the node's own (a caller may reuse its array).</summary>
    private static Tensor[] WithoutNulls(Tensor?[] inputs)
    {
        int present = 0;
        foreach (var t in inputs) if (t is not null) present++;
        var result = new Tensor[present];
        present = 0;
        foreach (var t in inputs) if (t is not null) result[present++] = t;
        return result;
    }

    /// <summary>
    /// The gradient buffer of <paramref name="t"/> for a backward that writes every one of its elements. When no
    /// other consumer has added to it yet, the buffer is created without zero-filling and
    /// <paramref name="overwrite"/> is true: the op stores its values where it would have added them to zeros,
    /// which saves two passes over memory. Call it before going parallel (creation is not thread-safe).
    /// </summary>
    internal static float[] GradientStorage(Tensor t, out bool overwrite)
    {
        overwrite = t.Grad is null;
        t.Grad ??= Tensor.Empty(t.Shape);
        return t.Grad.Data;
    }

    internal static void Backward(Tensor root, Tensor? gradient, bool retainGraph)
    {
        if (!root.RequiresGrad) throw new InvalidOperationException($"Backward on a tensor of shape {root.Shape} that does not require grad: no input of the graph has RequiresGrad set.");
        if (gradient is null && root.Length != 1)
            throw new InvalidOperationException($"Backward without a gradient needs a scalar output. Received shape {root.Shape}; pass the gradient explicitly.");
        if (gradient is not null && gradient.Shape != root.Shape)
            throw new ArgumentException($"Backward: gradient shape {gradient.Shape} does not match output shape {root.Shape}.");

        var order = TopologicalOrder(root);
        var rootGrad = root.GradSpan;
        if (gradient is null) rootGrad[0] += 1f; else System.Numerics.Tensors.TensorPrimitives.Add(rootGrad, gradient.Span, rootGrad);

        // Reverse topological order: a node runs after every consumer of its output has added its share.
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var node = t.GradFn!;
            var g = t.Grad;
            if (g is null) continue;
            node.RunBackward(g);
            // Intermediate gradients are not kept (as in PyTorch without retain_grad); leaves keep theirs.
            t.Grad = null;
            g.Dispose();
        }
        if (!retainGraph)
        {
            foreach (var t in order)
            {
                t.GradFn!.Release();
            }
        }
    }

    /// <summary>
    /// Returns to the pool the storage of every recorded tensor reachable from <paramref name="root"/>
    /// (the root included, leaves excluded) and frees their saved buffers. A training loop calls it once
    /// a step's loss and metrics have been read, so the next step reuses the same memory.
    /// </summary>
    internal static void DisposeGraph(Tensor root)
    {
        foreach (var t in TopologicalOrder(root))
        {
            t.GradFn!.Release();
            t.GradFn = null;
            t.Dispose();
        }
    }

    /// <summary>Every recorded tensor reachable from <paramref name="root"/>, producers before consumers.</summary>
    internal static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        if (root.GradFn is null) return order;
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.GradFn is not null && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }
}

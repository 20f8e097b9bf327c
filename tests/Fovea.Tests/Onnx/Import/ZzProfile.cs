using System.Diagnostics;
using System.Reflection;
using Fovea.Onnx.Import;
using Xunit.Abstractions;

namespace Fovea.Tests.Onnx.Import;

public class ZzProfile(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18_style", 32)]
    [InlineData("mobilenet_v2_style", 32)]
    [InlineData("squeezenet_style", 32)]
    [InlineData("vgg_style", 32)]
    public void Profile(string name, int batch)
    {
        Parallelism.Threads = 1;
        var model = OnnxModel.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx_zoo", name, "model.onnx"));
        model.Eval();
        var plan = (OnnxGraphPlan)typeof(OnnxModel).GetField("_plan", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(model)!;
        using var _ = Autograd.NoGrad();
        var dims = model.InputDims()!;
        using var x = Tensor.Normal(new TensorShape(batch, 3, (int)dims[2]!, (int)dims[3]!), 0f, 1f, new Rng(1));
        var times = new Dictionary<string, double>();
        for (int iter = 0; iter < 8; iter++)
        {
            var slots = new OnnxValue?[plan.SlotCount];
            foreach (var (slot, value) in plan.Constants) slots[slot] = value;
            slots[plan.Slot(plan.Inputs[0].Name)] = OnnxValue.Float(x);
            foreach (var step in plan.Steps)
            {
                var args = step.Inputs.Select(i => i >= 0 ? slots[i] : null).ToArray();
                var t0 = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                var r = step.Kernel(args);
                sw.Stop();
                if (iter >= 3) { string key = step.Node.OpType + " " + (args[0]?.ToString() ?? "") + " " + string.Join(",", step.Node.Attributes.Where(a => a.Key is "strides" or "kernel_shape" or "group").Select(a => a.Key[0] + "=" + string.Join("x", a.Value.Ints.Count > 0 ? a.Value.Ints : [a.Value.Int]))); times[key] = times.GetValueOrDefault(key) + sw.Elapsed.TotalMicroseconds / 5; }
                for (int o = 0; o < step.Outputs.Length; o++) if (step.Outputs[o] >= 0) slots[step.Outputs[o]] = r[o];
                foreach (int dead in step.LastUses)
                {
                    var t = slots[dead]?.Floats;
                    slots[dead] = null;
                    if (t is not null && !slots.Any(v => ReferenceEquals(v?.Floats, t))) t.Dispose();
                }
            }
        }
        var byOp = times.GroupBy(t => t.Key.Split(' ')[0]).Select(g => (g.Key, g.Sum(t => t.Value))).OrderByDescending(t => t.Item2);
        output.WriteLine($"{name} b{batch}: {times.Values.Sum():F0} µs total (1 thread); by op: {string.Join(", ", byOp.Select(o => $"{o.Key} {o.Item2:F0}"))}");
        foreach (var (k, v) in times.OrderByDescending(t => t.Value).Take(12)) output.WriteLine($"{v,10:F1} µs  {k}");
    }
}

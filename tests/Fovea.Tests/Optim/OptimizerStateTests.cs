using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Optim;

public class OptimizerStateTests
{
    private static Parameter[] NewParameters() =>
        [Parameter.From(Tensor.Normal(new TensorShape(3, 4), 0, 1, new Rng(1))), Parameter.From(Tensor.Normal(new TensorShape(5), 0, 1, new Rng(2)))];

    private static void SetGradients(Parameter[] parameters, int step)
    {
        for (int k = 0; k < parameters.Length; k++) parameters[k].Grad = Tensor.Normal(parameters[k].Shape, 0, 1, new Rng((ulong)(100 + 10 * step + k)));
    }

    public static TheoryData<string> Optimizers => ["SGD", "SGD-nesterov", "Adam", "Adam-amsgrad", "AdamW"];

    private static Optimizer Make(string kind, Parameter[] ps) => kind switch
    {
        "SGD" => new SGD(ps, lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.01),
        "SGD-nesterov" => new SGD(ps, lr: 0.1, momentum: 0.9, nesterov: true),
        "Adam" => new Adam(ps, lr: 0.01, weightDecay: 0.1),
        "Adam-amsgrad" => new Adam(ps, lr: 0.01, amsgrad: true),
        _ => new AdamW(ps, lr: 0.01),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void ResumingFromStateDictIsBitwiseTheSameRun(string kind)
    {
        var straight = NewParameters();
        var straightOptimizer = Make(kind, straight);
        var straightSchedule = new StepLR(straightOptimizer, stepSize: 2, gamma: 0.5);
        for (int step = 0; step < 5; step++)
        {
            SetGradients(straight, step);
            straightOptimizer.Step();
            straightSchedule.Step();
        }

        var first = NewParameters();
        var firstOptimizer = Make(kind, first);
        var firstSchedule = new StepLR(firstOptimizer, stepSize: 2, gamma: 0.5);
        for (int step = 0; step < 3; step++)
        {
            SetGradients(first, step);
            firstOptimizer.Step();
            firstSchedule.Step();
        }
        using var saved = firstOptimizer.StateDict();
        var savedSchedule = firstSchedule.StateDict();

        // A fresh process: new parameters holding the saved weights, a new optimizer and schedule.
        var resumed = first.Select(p => Parameter.From(p)).ToArray();
        var resumedOptimizer = Make(kind, resumed);
        var resumedSchedule = new StepLR(resumedOptimizer, stepSize: 2, gamma: 0.5);
        resumedOptimizer.LoadStateDict(saved);
        resumedSchedule.LoadStateDict(savedSchedule);
        Assert.Equal(firstOptimizer.LearningRate, resumedOptimizer.LearningRate);
        for (int step = 3; step < 5; step++)
        {
            SetGradients(resumed, step);
            resumedOptimizer.Step();
            resumedSchedule.Step();
        }
        for (int k = 0; k < straight.Length; k++) TensorAssert.Equal(straight[k], resumed[k], $"{kind}: parameter {k}");
        Assert.Equal(straightOptimizer.LearningRate, resumedOptimizer.LearningRate);
    }

    [Fact]
    public void StateDictUsesPyTorchNames()
    {
        var ps = NewParameters();
        var adam = new Adam(ps, amsgrad: true);
        SetGradients(ps, 0);
        adam.Step();
        adam.Step();
        using var state = adam.StateDict();
        Assert.Equal(["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"],
            state.Tensors.Keys);
        Assert.Equal(0, state.Tensors["state.1.step"].Rank);
        Assert.Equal(2f, state.Tensors["state.1.step"].Item());
        Assert.Equal(ps[0].Shape, state.Tensors["state.0.exp_avg"].Shape);
        Assert.Equal("Adam", state.Metadata["type"]);
        Assert.Equal("0.001", state.Metadata["lr"]);
        Assert.Equal("true", state.Metadata["amsgrad"]);
        Assert.Equal("[3, 4]", state.Metadata["param.0.shape"]);

        var sgd = new SGD(ps, lr: 0.1, momentum: 0.9);
        sgd.Step();
        using var sgdState = sgd.StateDict();
        Assert.Contains("state.1.momentum_buffer", sgdState.Tensors.Keys);
    }

    [Fact]
    public void LoadingAMismatchedStateThrowsNamingTheMismatch()
    {
        var ps = NewParameters();
        var adam = new Adam(ps);
        SetGradients(ps, 0);
        adam.Step();
        using var state = adam.StateDict();

        Assert.Contains("saved by Adam, not SGD", Assert.Throws<ArgumentException>(() => new SGD(NewParameters(), 0.1).LoadStateDict(state)).Message);
        Assert.Contains("saved by Adam, not AdamW", Assert.Throws<ArgumentException>(() => new AdamW(NewParameters()).LoadStateDict(state)).Message);
        Assert.Contains("beta2 is 0.99 here but 0.999", Assert.Throws<ArgumentException>(() => new Adam(NewParameters(), beta2: 0.99).LoadStateDict(state)).Message);
        var reshaped = new[] { Parameter.From(Tensor.Ones(3, 4)), Parameter.From(Tensor.Ones(6)) };
        Assert.Contains("param.1.shape is [6] here but [5]", Assert.Throws<ArgumentException>(() => new Adam(reshaped).LoadStateDict(state)).Message);
        Assert.Contains("param_count is 1 here but 2", Assert.Throws<ArgumentException>(() => new Adam([Parameter.From(Tensor.Ones(3, 4))]).LoadStateDict(state)).Message);

        var tensors = state.Tensors.ToDictionary();
        tensors["state.1.exp_avg"] = Tensor.Zeros(4);
        var target = new Adam(NewParameters());
        Assert.Contains("'state.1.exp_avg' has shape [4] but parameter 1 has shape [5]",
            Assert.Throws<ArgumentException>(() => target.LoadStateDict(new OptimizerState(tensors, state.Metadata))).Message);
        tensors = state.Tensors.ToDictionary();
        tensors.Remove("state.0.exp_avg_sq");
        Assert.Contains("no 'state.0.exp_avg_sq'", Assert.Throws<ArgumentException>(() => target.LoadStateDict(new OptimizerState(tensors, state.Metadata))).Message);
        tensors = state.Tensors.ToDictionary();
        tensors["state.0.momentum_buffer"] = Tensor.Zeros(3, 4);
        Assert.Contains("unexpected entry 'state.0.momentum_buffer'", Assert.Throws<ArgumentException>(() => target.LoadStateDict(new OptimizerState(tensors, state.Metadata))).Message);
        // A failed load changes nothing.
        Assert.Empty(target.StateDict().Tensors);
    }
}

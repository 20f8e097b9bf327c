using Fovea.Nn;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Optim;

public class LrSchedulerTests
{
    public static TheoryData<string> Cases => OptimFixture.Names("schedulers");

    private static SGD NewOptimizer(double lr) => new([Parameter.From(Tensor.Zeros(1))], lr);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchRates(string name)
    {
        var c = OptimFixture.Schedule(name);
        var optimizer = NewOptimizer(c["lr"]!.GetValue<double>());
        var schedule = OptimFixture.MakeSchedule(c["type"]!.GetValue<string>(), c["args"]!.AsObject(), optimizer);
        var expected = c["lrs"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
        var actual = new float[expected.Length];
        for (int step = 0; step < expected.Length; step++)
        {
            actual[step] = (float)optimizer.LearningRate;
            Assert.Equal(optimizer.LearningRate, schedule.LastLearningRate);
            Assert.Equal(optimizer.LearningRate, schedule.LearningRateAt(step));
            schedule.Step();
        }
        TensorAssert.Close(expected, actual, rtol: 1e-5, atol: 1e-6, $"{name}: learning rates");
    }

    [Fact]
    public void ResumesMidScheduleFromStateDict()
    {
        var optimizer = NewOptimizer(0.1);
        var schedule = new LinearWarmup(new CosineAnnealingLR(optimizer, tMax: 20, etaMin: 1e-3), warmupSteps: 5, startFactor: 0.1);
        for (int i = 0; i < 9; i++) schedule.Step();
        var state = schedule.StateDict();
        Assert.Equal("9", state["last_epoch"]);
        Assert.Equal("CosineAnnealingLR", state["inner.type"]);

        var resumedOptimizer = NewOptimizer(0.1);
        var resumed = new LinearWarmup(new CosineAnnealingLR(resumedOptimizer, tMax: 20, etaMin: 1e-3), warmupSteps: 5, startFactor: 0.1);
        resumed.LoadStateDict(state);
        Assert.Equal(optimizer.LearningRate, resumedOptimizer.LearningRate);
        schedule.Step();
        resumed.Step();
        Assert.Equal(schedule.LastLearningRate, resumed.LastLearningRate);

        var other = new LinearWarmup(new CosineAnnealingLR(NewOptimizer(0.1), tMax: 30, etaMin: 1e-3), warmupSteps: 5, startFactor: 0.1);
        Assert.Contains("inner.t_max is 30 here but 20", Assert.Throws<ArgumentException>(() => other.LoadStateDict(state)).Message);
        Assert.Contains("saved by LinearWarmup, not StepLR", Assert.Throws<ArgumentException>(() => new StepLR(NewOptimizer(0.1), 3).LoadStateDict(state)).Message);
    }

    [Fact]
    public void OneCycleRefusesToStepPastItsEnd()
    {
        var optimizer = NewOptimizer(0.1);
        var schedule = new OneCycleLR(optimizer, maxLr: 1, totalSteps: 4);
        Assert.Equal(0.04, optimizer.LearningRate, 12);
        for (int i = 0; i < 4; i++) schedule.Step();
        var e = Assert.Throws<InvalidOperationException>(schedule.Step);
        Assert.Contains("totalSteps 4", e.Message);
        Assert.Equal(4, schedule.LastStep);
    }

    [Fact]
    public void MisuseThrowsNamingTheSchedule()
    {
        var optimizer = NewOptimizer(0.1);
        Assert.Contains("StepLR: stepSize", Assert.Throws<ArgumentException>(() => new StepLR(optimizer, 0)).Message);
        Assert.Contains("CosineAnnealingLR: tMax", Assert.Throws<ArgumentException>(() => new CosineAnnealingLR(optimizer, -3)).Message);
        Assert.Contains("OneCycleLR: pctStart", Assert.Throws<ArgumentException>(() => new OneCycleLR(optimizer, 1, 10, pctStart: 1.5)).Message);
        Assert.Contains("OneCycleLR: totalSteps", Assert.Throws<ArgumentException>(() => new OneCycleLR(optimizer, 1, 0)).Message);
        Assert.Contains("LinearWarmup: startFactor", Assert.Throws<ArgumentException>(() => new LinearWarmup(new StepLR(optimizer, 2), 3, startFactor: 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(optimizer, 2).LearningRateAt(-1));
    }
}

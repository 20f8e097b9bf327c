using static Fovea.Optim.StateDictText;

namespace Fovea.Optim;

/// <summary>
/// Half a cosine from the base rate down to <see cref="EtaMin"/> over <see cref="TMax"/> steps, in
/// PyTorch's closed form ηmin + (lr₀ − ηmin)·(1 + cos(π·t / Tmax)) / 2. Past Tmax it rises again,
/// as PyTorch's does (period 2·Tmax).
/// </summary>
public sealed class CosineAnnealingLR : LrScheduler
{
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax <= 0) throw new ArgumentException($"CosineAnnealingLR: tMax must be positive. Received: {tMax}");
        if (!(etaMin >= 0) || double.IsPositiveInfinity(etaMin)) throw new ArgumentException($"CosineAnnealingLR: etaMin must be a finite non-negative number. Received: {etaMin}");
        TMax = tMax;
        EtaMin = etaMin;
        Start();
    }

    public int TMax { get; }
    public double EtaMin { get; }

    protected override double Compute(int step) => EtaMin + (BaseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * step / TMax)) / 2;

    protected override void WriteConfiguration(Dictionary<string, string> state)
    {
        state["base_lr"] = Format(BaseLearningRate);
        state["t_max"] = Format(TMax);
        state["eta_min"] = Format(EtaMin);
    }
}

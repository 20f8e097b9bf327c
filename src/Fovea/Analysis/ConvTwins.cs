namespace Fovea.Analysis;

/// <summary>
/// A Conv2d beside the two layers that map the same input shape to the same output shape without its
/// savings: its <b>locally connected twin</b> (the same windows, one weight set per output position:
/// no parameter sharing) and its <b>dense twin</b> (a Linear from the flattened input to the flattened
/// output: no sparsity, no sharing). Twin counts are Int128 because a dense twin on a megapixel image
/// passes 2^63 bytes long before its parameters pass 2^63.
/// </summary>
public sealed record ConvTwins(string Name, string Layer, TensorShape Input, TensorShape Output, int Groups, int KernelHeight, int KernelWidth, bool HasBias)
{
    public const int BytesPerWeight = sizeof(float);

    public long InChannels => Input[1];
    public long OutChannels => Output[1];
    public long InputsPerImage => (long)Input.Length;
    public long OutputsPerImage => (long)Output.Length;
    public long OutPixels => (long)Output[2] * Output[3];

    /// <summary>Inputs one output reads, (C / groups)·kH·kW, against <see cref="InputsPerImage"/> for a dense layer.</summary>
    public long WindowInputs => InChannels / Groups * KernelHeight * KernelWidth;

    public long Parameters => checked(OutChannels * WindowInputs + (HasBias ? OutChannels : 0));

    /// <summary>Multiply-adds per image: every output reads its window once. The locally connected twin does the same work.</summary>
    public long Macs => checked(OutputsPerImage * WindowInputs);

    public Int128 LocallyConnectedParameters => (Int128)OutputsPerImage * WindowInputs + (HasBias ? OutputsPerImage : 0);
    public Int128 LocallyConnectedMacs => Macs;

    public Int128 DenseParameters => (Int128)InputsPerImage * OutputsPerImage + (HasBias ? OutputsPerImage : 0);
    public Int128 DenseMacs => (Int128)InputsPerImage * OutputsPerImage;

    public Int128 WeightBytes => (Int128)Parameters * BytesPerWeight;
    public Int128 LocallyConnectedBytes => LocallyConnectedParameters * BytesPerWeight;
    public Int128 DenseBytes => DenseParameters * BytesPerWeight;

    /// <summary>How many times more weights the locally connected twin needs: what sharing saves.</summary>
    public double LocallyConnectedRatio => (double)LocallyConnectedParameters / Parameters;

    /// <summary>How many times more weights the dense twin needs: what sparsity and sharing save together.</summary>
    public double DenseRatio => (double)DenseParameters / Parameters;

    /// <summary>How many times more multiply-adds the dense twin does: what sparsity saves.</summary>
    public double DenseMacsRatio => (double)DenseMacs / Macs;
}

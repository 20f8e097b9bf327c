using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Kernels;

/// <summary>
/// The few vector operations a micro-kernel needs, as static members of a struct, so one generic
/// kernel compiles (the JIT specialises generics over structs) to Vector512, Vector256 or Vector128 code.
/// </summary>
internal interface IVectorOps<TVec> where TVec : struct
{
    static abstract int Width { get; }
    static abstract unsafe TVec Load(float* p);
    static abstract unsafe void Store(float* p, TVec v);
    static abstract TVec Broadcast(float x);
    /// <summary>a·b + c, fused where the hardware has FMA.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);
    /// <summary>The sum of the lanes, in a fixed order.</summary>
    static abstract float Sum(TVec v);
    /// <summary>min(max(v, low), high) with IEEE maximum/minimum (NaN propagates, −0 &lt; +0), as TensorPrimitives.Max/Min; the identity for (−∞, +∞).</summary>
    static abstract TVec Clamp(TVec v, float low, float high);
}

internal readonly struct V512 : IVectorOps<Vector512<float>>
{
    public static int Width => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Clamp(Vector512<float> v, float low, float high) => Vector512.Min(Vector512.Max(v, Vector512.Create(low)), Vector512.Create(high));
}

internal readonly struct V256 : IVectorOps<Vector256<float>>
{
    public static int Width => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Clamp(Vector256<float> v, float low, float high) => Vector256.Min(Vector256.Max(v, Vector256.Create(low)), Vector256.Create(high));
}

internal readonly struct V128 : IVectorOps<Vector128<float>>
{
    public static int Width => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> v) => Vector128.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Clamp(Vector128<float> v, float low, float high) => Vector128.Min(Vector128.Max(v, Vector128.Create(low)), Vector128.Create(high));
}

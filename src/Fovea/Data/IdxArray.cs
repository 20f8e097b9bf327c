namespace Fovea.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dimension sizes and its elements in row-major order.</summary>
public sealed record IdxArray(int[] Dims, byte[] Data);

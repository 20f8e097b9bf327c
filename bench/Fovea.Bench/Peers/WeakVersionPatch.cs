using System.Buffers.Binary;
using System.Text;

namespace Fovea.Bench.Peers;

/// <summary>
/// TorchSharp 0.107's libLibTorchSharp.so was linked against GCC 13's libstdc++ and lists
/// GLIBCXX_3.4.32 among its needed versions, only for <c>std::ios_base_library_init</c>, a symbol
/// GCC 13 references to pull in iostream initialisation and that nothing calls. Debian 12 ships
/// libstdc++ up to GLIBCXX_3.4.30, so the dynamic loader refuses the library. Marking that version
/// requirement weak (VER_FLG_WEAK in its Vernaux entry, as the ELF spec allows) makes the loader
/// accept its absence. Only the bench's own copy in its output folder is patched, never the NuGet
/// cache or a system file.
/// </summary>
public static class WeakVersionPatch
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>Marks <paramref name="version"/> weak in <paramref name="path"/>; returns what it did, in words.</summary>
    public static string Apply(string path, string version)
    {
        var bytes = File.ReadAllBytes(path);
        int? flagsOffset = FindVernauxFlags(bytes, version);
        if (flagsOffset is not int at) return $"{Path.GetFileName(path)} does not ask for {version}: nothing to patch";
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
        if ((flags & VerFlagWeak) != 0) return $"{version} requirement already marked weak in {path}";
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), (ushort)(flags | VerFlagWeak));
        // Write a new file and rename it over the old one, so a hard link to a shared copy is never modified.
        string temporary = path + ".patching";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
        return $"marked the {version} requirement weak (VER_FLG_WEAK) in the bench's copy {path}";
    }

    /// <summary>File offset of vna_flags of the Vernaux entry named <paramref name="version"/>, or null.</summary>
    private static int? FindVernauxFlags(byte[] elf, string version)
    {
        var span = elf.AsSpan();
        if (span.Length < 64 || !span[..4].SequenceEqual("\u007fELF"u8) || span[4] != 2 || span[5] != 1)
            throw new InvalidDataException("Not a 64-bit little-endian ELF file.");
        long sectionHeaders = BinaryPrimitives.ReadInt64LittleEndian(span[0x28..]);
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        for (int i = 0; i < count; i++)
        {
            var header = span.Slice((int)(sectionHeaders + (long)i * entrySize), entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed) continue;
            int offset = (int)BinaryPrimitives.ReadInt64LittleEndian(header[0x18..]);
            int stringsSection = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            int needCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x2C..]);
            var stringsHeader = span.Slice((int)(sectionHeaders + (long)stringsSection * entrySize), entrySize);
            int strings = (int)BinaryPrimitives.ReadInt64LittleEndian(stringsHeader[0x18..]);
            return FindInVerneed(span, offset, needCount, strings, version);
        }
        return null;
    }

    /// <summary>Walks Verneed entries (vn_cnt at +2, vn_aux at +8, vn_next at +12) and their Vernaux lists.</summary>
    private static int? FindInVerneed(ReadOnlySpan<byte> elf, int need, int needCount, int strings, string version)
    {
        for (int n = 0; n < needCount; n++)
        {
            int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf[(need + 2)..]);
            int aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 8)..]);
            for (int a = 0; a < auxCount; a++)
            {
                // Vernaux: vna_hash (4), vna_flags (2), vna_other (2), vna_name (4), vna_next (4).
                int name = strings + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 8)..]);
                int end = elf[name..].IndexOf((byte)0);
                if (Encoding.ASCII.GetString(elf.Slice(name, end)) == version) return aux + 4;
                aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 12)..]);
            }
            need += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 12)..]);
        }
        return null;
    }
}

namespace Midia.Hosting;

/// <summary>
/// Files only their owner may touch: private keys, the linkage key, a site database. A server
/// refuses to start on one its group or other users can read or write (as ssh does with keys),
/// and the files the product writes are created owner-only (mode 600) before anything goes in.
/// </summary>
public static class OwnerOnlyFile
{
    const UnixFileMode Shared = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Null when only the owner may read and write the file; otherwise why not and the fix, naming the file.</summary>
    public static string? Problem(string path, string what)
    {
        if (OperatingSystem.IsWindows()) return null; // file modes are a Unix matter
        var mode = File.GetUnixFileMode(path);
        if ((mode & Shared) == 0) return null;
        var who = (mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0 ? "other users" : "its group";
        return $"{what} '{path}' is readable by other users (mode {Octal(mode)}: {who} may read or write it); restrict it: chmod 600 '{path}'";
    }

    /// <summary>Throws <see cref="CommandException"/> unless only the owner may read and write the file.</summary>
    public static void Require(string path, string what)
    {
        if (Problem(path, what) is { } problem) throw new CommandException(problem);
    }

    /// <summary>Creates the file empty with mode 600 if it does not exist yet (an existing file is left as it is).</summary>
    public static void CreateIfMissing(string path)
    {
        if (File.Exists(path)) return;
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        try { new FileStream(path, options).Dispose(); }
        catch (IOException) when (File.Exists(path)) { } // created meanwhile by another process: theirs stands
    }

    static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}

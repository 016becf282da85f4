namespace Midia.Node.Query;

/// <summary>
/// A CCDL query the node refuses: malformed, or a construct it cannot evaluate exactly. The gRPC
/// layer maps it to INVALID_ARGUMENT; JsonPath names the construct (inclusionCriteria[2][0].valueFilter).
/// </summary>
public sealed class CcdlException(string jsonPath, string message) : Exception($"{jsonPath}: {message}")
{
    public string JsonPath { get; } = jsonPath;
    public string Reason { get; } = message;
}

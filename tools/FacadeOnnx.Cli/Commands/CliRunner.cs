namespace FacadeOnnx.Cli.Commands;

/// <summary>Runs a command body: a <see cref="FacadeException"/> (something the user can fix) prints its message and
/// exits with code 2; anything else is a bug and keeps its stack trace.</summary>
public static class CliRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (FacadeException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}

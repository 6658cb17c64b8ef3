using System.Text;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>
/// Saliency maps as coloured text for a terminal: one row per method, each token on a background from white (no
/// attribution) to red (the row's largest). Without colour support (redirected output or NO_COLOR) each token is
/// followed by its normalized score instead.
/// </summary>
public static class TerminalHeatmap
{
    public static string Render(IReadOnlyList<SaliencyMap> maps, bool color)
    {
        var text = new StringBuilder();
        int width = maps.Max(m => m.Method.Length);
        foreach (var map in maps)
        {
            text.Append(map.Method.PadRight(width)).Append("  ");
            float max = Math.Max(map.Normalized.Max(), 1e-12f);
            for (int t = 0; t < map.Tokens.Length; t++)
            {
                string token = map.Tokens[t];
                if (color)
                {
                    int fade = (int)Math.Round(255 * (1 - map.Normalized[t] / max));
                    text.Append($"\u001b[38;2;0;0;0m\u001b[48;2;255;{fade};{fade}m{token}\u001b[0m ");
                }
                else text.Append($"{token}({map.Normalized[t]:F2}) ");
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    public static bool ColorSupported() =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") == null && Environment.GetEnvironmentVariable("TERM") != "dumb";
}

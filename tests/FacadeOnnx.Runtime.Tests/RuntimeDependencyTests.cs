using System.Reflection;
using FacadeOnnx.Runtime.Engine;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>A deployment that only evaluates carries ONNX Runtime and our small libraries, never libtorch.</summary>
[TestFixture]
public class RuntimeDependencyTests
{
    [Test]
    public void RuntimeReferencesNoTorchSharp()
    {
        var runtime = typeof(GradientEngine).Assembly;
        var seen = new HashSet<string>();
        var pending = new Queue<Assembly>([runtime]);
        var ours = new List<string>();
        while (pending.Count > 0)
        {
            var assembly = pending.Dequeue();
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                Assert.That(reference.Name, Does.Not.StartWith("TorchSharp"), $"{assembly.GetName().Name} references {reference.Name}");
                if (reference.Name!.StartsWith("FacadeOnnx") && seen.Add(reference.Name))
                {
                    ours.Add(reference.Name);
                    pending.Enqueue(Assembly.Load(reference));
                }
            }
        }
        Assert.That(ours, Does.Contain("FacadeOnnx.Graph").And.Contain("FacadeOnnx.Text"));
        Assert.That(ours, Does.Not.Contain("FacadeOnnx.Training"));
    }
}

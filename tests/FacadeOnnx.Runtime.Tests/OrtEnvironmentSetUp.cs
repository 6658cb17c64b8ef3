using FacadeOnnx.Runtime.Engine;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Before any test of this assembly: the process's ONNX Runtime environment, with the shared thread pool, exists.
/// The environment is made once per process by whatever touches ONNX Runtime first; a test that made a plain
/// SessionOptions or session before the first engine would leave the whole run without a shared pool (engines then
/// fall back to threads per session), and which test runs first is up to NUnit.
/// </summary>
[SetUpFixture]
public class OrtEnvironmentSetUp
{
    [OneTimeSetUp]
    public void CreateTheEnvironment() => OrtEnvironment.Ensure();
}

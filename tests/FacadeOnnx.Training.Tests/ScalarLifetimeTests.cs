using System.Reflection;
using System.Reflection.Emit;
using FacadeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// Guards the rule in <see cref="ScalarArithmetic"/>: no method of ours may convert a number to a TorchSharp Scalar
/// implicitly (or call a Tensor operator with a number operand, which does so inside TorchSharp), because such a Scalar
/// can be finalized while libtorch still reads it. Reads the compiled IL, so it sees every call the compiler emitted.
/// </summary>
public class ScalarLifetimeTests
{
    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    static bool CreatesUnheldScalar(MethodBase callee) =>
        (callee.DeclaringType == typeof(Scalar) && callee.Name == "op_Implicit")
        || (callee.DeclaringType == typeof(Tensor) && callee.Name.StartsWith("op_")
            && callee.GetParameters().Any(p => p.ParameterType.IsPrimitive));

    static IEnumerable<string> Offenders(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            var il = method.GetMethodBody()?.GetILAsByteArray();
            if (il is null) continue;
            for (int at = 0; at < il.Length;)
            {
                short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
                var op = OpCodesByValue[value];
                at += op.Size;
                int operand = op.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                    _ => 4,
                };
                if (op.OperandType == OperandType.InlineMethod)
                {
                    var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, at),
                        method.DeclaringType?.GetGenericArguments(), method.IsGenericMethod ? method.GetGenericArguments() : null);
                    if (callee is not null && CreatesUnheldScalar(callee))
                        yield return $"{type.FullName}.{method.Name} calls {callee.DeclaringType!.Name}.{callee}";
                }
                at += operand;
            }
        }
    }

    [Test]
    public void TheScannerFindsAnImplicitScalar()
    {
        // The scanner must see the pattern it forbids, or the test below could pass for the wrong reason.
        Assert.That(Offenders(typeof(ScalarLifetimeTests).Assembly).Where(o => o.Contains(nameof(ImplicitScalarExample))), Is.Not.Empty);
    }

    [Test]
    public void TrainingCodeHoldsEveryScalarItCreates()
    {
        var offenders = Offenders(typeof(ScalarArithmetic).Assembly).ToArray();
        Assert.That(offenders, Is.Empty, "use ScalarArithmetic (Times, Plus, Over, …) or a `using var s = k.ToScalar()`");
    }

    [Test]
    public void TestCodeHoldsEveryScalarItCreates()
    {
        var offenders = Offenders(typeof(ScalarLifetimeTests).Assembly).Where(o => !o.Contains(nameof(ImplicitScalarExample)));
        Assert.That(offenders, Is.Empty, "use ScalarArithmetic (Times, Plus, Over, …) or a `using var s = k.ToScalar()`");
    }

    /// <summary>The forbidden pattern, for the scanner's own check; never called.</summary>
    static Tensor ImplicitScalarExample(Tensor t) => t * 0.5;
}

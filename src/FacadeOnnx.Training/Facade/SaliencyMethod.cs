namespace FacadeOnnx.Training.Facade;

/// <summary>The gradient-based saliency methods of METHOD.md section 9.</summary>
public enum SaliencyMethod
{
    /// <summary>grad x input at the clean embeddings.</summary>
    SimpleGradient,
    /// <summary>The mean gradient over noisy copies of the embeddings, times the clean input.</summary>
    SmoothGrad,
    /// <summary>The mean gradient over scaled copies α·e (left Riemann sum from a zero baseline), times the input.</summary>
    IntegratedGradients,
}

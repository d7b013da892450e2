/// Something that turns one order's spoofing features into a probability: the ONNX model
/// (`SpoofingModel`), or any other implementation a test or tool supplies.
///
/// The risk engine calls it on the thread that owns the engine, with a buffer of exactly
/// ``SpoofingFeatureSchema/count`` finite values in schema order. It never stores the buffer.
public protocol SpoofingScorer: AnyObject {
    /// The probability (0…1) that the order is part of spoofing or layering, or nil when scoring
    /// failed (an error, a non-finite result, or the time budget ran out); the caller then fails
    /// open or closed as configured.
    func score(_ features: UnsafeBufferPointer<Float>) -> Float?
}

"""Readers of model files written by other frameworks (TensorFlow Lite, ONNX)."""

"""The verified embedding model and its runtimes (PyTorch, ONNX Runtime) and the ONNX export."""

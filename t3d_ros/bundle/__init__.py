"""The policy bundle, torch-free: file format, deployment checks, signing, atomic writes, ONNX."""

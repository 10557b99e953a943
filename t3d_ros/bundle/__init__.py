"""The policy bundle, torch-free: its file format, deployment checks, signing, atomic writes."""

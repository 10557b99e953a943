"""
TD3 in PyTorch: networks, the update, replay memory, checkpoints.

The names below are imported on first use, so that ``t3d_ros.td3.config`` and
``t3d_ros.bundle.policy_bundle`` (read with numpy) load without torch, as the actor node needs.
"""
import importlib

_MODULES = {
    'TD3': 'td3', 'TD3Config': 'config', 'PRESETS': 'config', 'Actor': 'networks',
    'Critic': 'networks', 'ActionScaler': 'networks', 'Policy': 'policy', 'Batch': 'replay',
    'ReplayMemory': 'replay', 'PolicyBundle': 't3d_ros.bundle.policy_bundle',
    'BundleError': 't3d_ros.bundle.policy_bundle',
    'BundleMismatch': 't3d_ros.bundle.policy_bundle', 'save_checkpoint': 'checkpoint',
    'load_checkpoint': 'checkpoint', 'latest_checkpoint': 'checkpoint',
    'CheckpointError': 'checkpoint',
}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    module = _MODULES[name]
    return getattr(importlib.import_module(module if '.' in module else f'.{module}', __name__),
                   name)

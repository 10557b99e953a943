"""Pure-PyTorch TD3 core: networks, replay memory, update, policy bundles and checkpoints."""
from .bundle import BundleError, BundleMismatch, PolicyBundle
from .checkpoint import CheckpointError, latest_checkpoint, load_checkpoint, save_checkpoint
from .config import PRESETS, TD3Config
from .networks import ActionScaler, Actor, Critic
from .policy import Policy
from .replay import Batch, ReplayMemory
from .td3 import TD3

__all__ = [
    'TD3', 'TD3Config', 'PRESETS', 'Actor', 'Critic', 'ActionScaler', 'Policy', 'Batch',
    'ReplayMemory', 'PolicyBundle', 'BundleError',
    'BundleMismatch', 'save_checkpoint', 'load_checkpoint', 'latest_checkpoint',
    'CheckpointError',
]

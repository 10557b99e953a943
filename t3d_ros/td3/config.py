"""TD3 hyperparameters in one typed, documented place."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from t3d_ros.param_schema import check_fields

BACKENDS = ('fast', 'plain')
"""Implementations of the update (``TD3Config.backend``), equal to float rounding."""


@dataclass(frozen=True)
class TD3Config:
    """
    Hyperparameters of TD3 (Fujimoto et al., 2018). Defaults follow the paper's code.

    The behaviour policy's settings (random start steps, exploration noise) are the actors':
    ``t3d_ros.acting.core.ActorSettings``.

    The learning rate is 3e-4 with 256-256 networks, the values of the authors' updated
    implementation (sfujim/TD3); the paper's 1e-3 belongs to its 400-300 networks.

    Each field's docstring and ``metadata`` (its range: ``t3d_ros.param_schema.Param``)
    are the learner node's parameter declaration too.
    """

    hidden_sizes: tuple[int, ...] = field(default=(256, 256),
                                          metadata=dict(low=1, min_length=1))
    """Widths of the hidden layers of the actor and of each critic (ReLU)."""
    actor_lr: float = field(default=3e-4, metadata=dict(low=0.0, low_open=True))
    """Adam learning rate of the actor."""
    critic_lr: float = field(default=3e-4, metadata=dict(low=0.0, low_open=True))
    """Adam learning rate of the two critics (one optimiser over both)."""
    gamma: float = field(default=0.99, metadata=dict(low=0.0, high=1.0))
    """Discount factor."""
    tau: float = field(default=0.005, metadata=dict(low=0.0, high=1.0, low_open=True))
    """Polyak rate: target <- tau * online + (1 - tau) * target."""
    policy_noise: float = field(default=0.2, metadata=dict(low=0.0))
    """Std of the target-policy smoothing noise, as a fraction of each joint's half range."""
    noise_clip: float = field(default=0.5, metadata=dict(low=0.0))
    """Clip of the target-policy smoothing noise, same units as ``policy_noise``."""
    policy_delay: int = field(default=2, metadata=dict(low=1))
    """Critic updates per actor and target update."""
    batch_size: int = field(default=256, metadata=dict(low=1))
    """Transitions per update."""
    replay_capacity: int = field(default=1_000_000, metadata=dict(low=1))
    """Replay memory size (oldest transitions are overwritten); at least ``batch_size``."""
    learning_starts: int = field(default=10_000, metadata=dict(low=0))
    """Transitions in the replay memory before the first update."""
    updates_per_step: float = field(default=1.0, metadata=dict(low=0.0, low_open=True))
    """Updates per inserted transition (update-to-data ratio) once learning has started: the
    floor, which lockstep actors wait for (``/t3d/throttle``) when they run ahead of it."""
    max_updates_per_step: float = field(default=0.0, metadata=dict(low=0.0))
    """The ceiling of the update-to-data ratio: above the floor the learner runs as fast as it
    can up to it (over the run and its last 1,000 transitions), and actors are not asked to
    wait. For robots that cannot wait; 0 = ``updates_per_step`` (a 1:1 lock)."""
    seed: int = field(default=0, metadata=dict(low=0))
    """Seed of network initialisation, noise and replay sampling."""
    backend: str = field(default='fast', metadata=dict(choices=BACKENDS))
    """How the update is computed: 'fast' (gradients written out, critics stacked, fused Adam)
    or 'plain' (autograd, as the TD3 authors wrote it; easier to read and change, slower).
    Checkpoints and policies of either load into the other."""

    def __post_init__(self):
        self.validate()

    def replace(self, **changes) -> 'TD3Config':
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> 'TD3Config':
        """Build from a mapping (e.g. ROS parameters); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f'unknown TD3 parameters: {sorted(unknown)}')
        values = dict(values)
        if 'hidden_sizes' in values:
            values['hidden_sizes'] = tuple(values['hidden_sizes'])
        return cls(**values)

    def validate(self) -> None:
        """Raise ValueError on values that cannot work, naming the field."""
        check_fields(self)
        if 0 < self.max_updates_per_step < self.updates_per_step:
            raise ValueError(f'max_updates_per_step ({self.max_updates_per_step}) must be 0 or '
                             f'>= updates_per_step ({self.updates_per_step})')
        if self.replay_capacity < self.batch_size:
            raise ValueError(f'replay_capacity ({self.replay_capacity}) must be >= batch_size '
                             f'({self.batch_size})')


SEED_T3D = TD3Config(replay_capacity=20_000, learning_starts=10_000)
"""The seed project's learner: a 20,000-transition replay memory, learning after 10,000 steps
(its 10,000 random start actions are ``ActorSettings(start_steps=10_000)``)."""

PRESETS: dict[str, TD3Config] = {'td3_paper': TD3Config(), 'seed_t3d': SEED_T3D}

"""TD3 hyperparameters in one typed, documented place."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class TD3Config:
    """
    Hyperparameters of TD3 (Fujimoto et al., 2018). Defaults follow the paper's code.

    The behaviour policy's settings (random start steps, exploration noise) are the actors':
    ``t3d_ros.acting.core.ActorSettings``.

    The learning rate is 3e-4 with 256-256 networks, the values of the authors' updated
    implementation (sfujim/TD3); the paper's 1e-3 belongs to its 400-300 networks.
    """

    hidden_sizes: tuple[int, ...] = (256, 256)
    """Widths of the hidden layers of the actor and of each critic (ReLU)."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the two critics (one optimiser over both)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate: target <- tau * online + (1 - tau) * target."""
    policy_noise: float = 0.2
    """Std of the target-policy smoothing noise, as a fraction of each joint's half range."""
    noise_clip: float = 0.5
    """Clip of the target-policy smoothing noise, same units as ``policy_noise``."""
    policy_delay: int = 2
    """Critic updates per actor and target update."""
    batch_size: int = 256
    """Transitions per update."""
    replay_capacity: int = 1_000_000
    """Replay memory size (oldest transitions are overwritten)."""
    learning_starts: int = 10_000
    """Transitions in the replay memory before the first update."""
    updates_per_step: float = 1.0
    """Updates per inserted transition (update-to-data ratio) once learning has started."""
    seed: int = 0
    """Seed of network initialisation, noise and replay sampling."""

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
            values['hidden_sizes'] = tuple(int(v) for v in values['hidden_sizes'])
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ValueError on values that cannot work."""
        checks = [
            (len(self.hidden_sizes) > 0 and all(h > 0 for h in self.hidden_sizes),
             'hidden_sizes must be positive widths'),
            (self.actor_lr > 0 and self.critic_lr > 0, 'learning rates must be > 0'),
            (0.0 <= self.gamma <= 1.0, 'gamma must be in [0, 1]'),
            (0.0 < self.tau <= 1.0, 'tau must be in (0, 1]'),
            (self.policy_noise >= 0 and self.noise_clip >= 0, 'noise must be >= 0'),
            (self.policy_delay >= 1, 'policy_delay must be >= 1'),
            (self.batch_size >= 1, 'batch_size must be >= 1'),
            (self.replay_capacity >= self.batch_size, 'replay_capacity must be >= batch_size'),
            (self.learning_starts >= 0, 'learning_starts must be >= 0'),
            (self.updates_per_step > 0, 'updates_per_step must be > 0'),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


def field_docs(cls: type | None = None) -> dict[str, str]:
    """
    Return each dataclass field's docstring (default: TD3Config's).

    For ROS parameter descriptions and the README.
    """
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cls or TD3Config))
    body = tree.body[0].body
    docs = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)):
            docs[node.target.id] = following.value.value
    return docs


SEED_T3D = TD3Config(replay_capacity=20_000, learning_starts=10_000)
"""The seed project's learner: a 20,000-transition replay memory, learning after 10,000 steps
(its 10,000 random start actions are ``ActorSettings(start_steps=10_000)``)."""

PRESETS: dict[str, TD3Config] = {'td3_paper': TD3Config(), 'seed_t3d': SEED_T3D}

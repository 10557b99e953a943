"""What the measurements share: the tasks they run, their timeouts, their error."""
from __future__ import annotations

TASK = 'reacher'
"""Task of the speed measurements: 10-d observation, 2 joints, 256-256 networks."""
NAMESPACE = 'robot_0'
THRESHOLD_TASK = 'pendulum'
CURVE_TASK = 'half_cheetah'
"""Task of the learning curve next to SB3: locomotion, far from solved in a short budget."""
STARTUP_TIMEOUT = 180.0
"""Seconds for node processes to come up (they import torch and PyBullet, on busy CPUs)."""
ANSWER_TIMEOUT = 2.0
"""Seconds one answer (a command, a policy acknowledgement) may take before it counts lost."""


class BenchError(RuntimeError):
    """A measurement that could not be made (a node did not come up, died, or went silent)."""


def random_bundle(task, hidden_sizes=(256, 256)):
    """Return a policy bundle of a freshly initialised actor (``hidden_sizes``) for ``task``."""
    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.td3.td3 import TD3

    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=tuple(hidden_sizes)))
    return PolicyBundle.from_agent(agent, task, policy_version=1)

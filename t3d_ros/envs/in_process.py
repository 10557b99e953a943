"""
A robot's sim core and actor core joined in one process: the ROS path without transport.

Over ROS the sim node runs the :class:`~t3d_ros.envs.sim_core.SimCore` and the actor node the
:class:`~t3d_ros.acting.core.ActorCore`, and they exchange the reset, the joint state and the
command. :class:`InProcessEpisodes` passes the same things directly, in the same order, for
the gymnasium env and the direct trainer.
"""
from __future__ import annotations

import numpy as np

from t3d_ros.acting.core import ActorCore
from t3d_ros.acting.transitions import Transition
from t3d_ros.envs.sim_core import SimCore
from t3d_ros.tasks.base import RobotState


class InProcessEpisodes:
    """The episodes of ``sim`` as ``core`` sees them; ``state`` and ``obs`` are the latest."""

    def __init__(self, sim: SimCore, core: ActorCore):
        self.sim, self.core = sim, core
        self.state: RobotState | None = None
        self.obs: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        """Reset the robot and begin the core's episode (its goal shown); return the first obs."""
        self.sim.reset()
        goal = self.core.begin_episode()
        if goal is not None:
            self.sim.robot.show_goal(goal)
        self._observe()
        return self.obs

    def step(self, command: np.ndarray) -> Transition:
        """Send ``command`` (the core's) for one control period; return the transition closed."""
        self.sim.step(command)
        self.core.sent(self.state, self.obs, command)
        return self._observe()

    def _observe(self) -> Transition | None:
        position, velocity, _, base = self.sim.observe()
        self.state, self.obs, transition = self.core.observe(position, velocity, base)
        return transition

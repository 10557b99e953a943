"""
The relative position action: the policy moves the joint target instead of choosing it.

A position task's action is normally the joint target itself (``position_action: absolute``):
exploration noise then moves the whole arm at once, and the policy must output an inverse
kinematics solution precise to the success distance. With ``position_action: relative`` (as
Isaac Lab's ``RelativeJointPositionAction`` and many real-arm RL stacks) the action is a change
of the target per control step, at most ``step`` rad per joint, and the command is::

    target_0   = clip(measured position at the episode's start, command_low, command_high)
    command_t  = clip(target_t + clip(action_t, -step, step), command_low, command_high)
    target_t+1 = command_t as sent (after the safety layer)

The target accumulates the last *commanded* target, not the *measured* position plus the
action (Isaac Lab's choice). A PD position loop holds a joint against gravity, friction and load
only with a steady error between target and position (here the sim compensates gravity, a real
arm's controller never exactly). With measured + action, a zero action commands "where you are
now", which the PD holds with zero force: the arm sags by that error every step and the policy
must output a state-dependent action just to stand still, and in motion the target is pulled
back to the lagging arm each step, so the speed depends on the tracking error. With last target
+ action, a zero action holds the target, the loop keeps its steady error, and the target moves
exactly as the policy says, like an absolute target that the policy nudges. The target is not a
function of the joint state, so the observation carries it (``joint_target``) and stays Markov.

After a safe command (hold the measured position: stale state, e_stop, reset) the target starts
again from the measured position, as at an episode's start.
"""
from __future__ import annotations

import numpy as np


class RelativeTarget:
    """
    The relative position action's map from (target, action) to the command, per joint.

    :param step: the largest target change per control step (rad).
    :param low, high: the command limits the target is always clipped to.
    """

    def __init__(self, step: float, low: np.ndarray, high: np.ndarray):
        if not step > 0:
            raise ValueError(f'the relative action step must be > 0, not {step}')
        self.low = np.array(low, dtype=np.float64)
        self.high = np.array(high, dtype=np.float64)
        self.action_high = np.full(self.low.shape, float(step))
        self.action_low = -self.action_high

    def start(self, position: np.ndarray) -> np.ndarray:
        """Return the target an episode starts from: the measured ``position``, within limits."""
        return np.clip(np.asarray(position, dtype=np.float64), self.low, self.high)

    def command(self, target: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Return the command that moves ``target`` by ``action`` (both clipped)."""
        action = np.clip(np.asarray(action, dtype=np.float64), self.action_low, self.action_high)
        return np.clip(target + action, self.low, self.high)

"""The actor parameter ``reset``: which ``ResetClient`` a training actor node uses."""
from __future__ import annotations

import numpy as np

from t3d_ros.acting.homing import HomingSettings, homing_gains
from t3d_ros.nodes.homing_reset import HomingReset
from t3d_ros.nodes.reset_client import NoReset, ResetClient, ServiceReset


def homing_settings(task, p) -> HomingSettings:
    """Return the ``home_*`` parameters ``p`` as settings; ValueError if they do not fit."""
    kp, kd = homing_gains(task, p['home_kp'], p['home_kd'])
    return HomingSettings(p['home_tolerance'], p['home_timeout'], p['home_speed'],
                          np.asarray(kp), np.asarray(kd))


def make_reset_client(node) -> ResetClient:
    """Return the reset client of an ``ActorNode`` for its ``reset`` parameter."""
    mode, logger = node.p['reset'], node.get_logger()
    if mode == 'none':
        return NoReset(node.begin_episode)
    if mode == 'service':
        return ServiceReset(logger, node.begin_episode)
    return HomingReset(node.task, node.p['seed'], homing_settings(node.task, node.p),
                       node.period, node.state_timeout, node.robot_state, node.commands,
                       lambda: node.active, node.e_stop_input.allows_policy, node.faults,
                       logger, node.begin_episode)

"""
The ROS path adds transport, never different numbers (architecture: The episode contract).

The sim node and the actor node (random start actions from its seeded generator) run a few
episodes in lockstep, for the effort tasks, a position task file (absolute and relative
targets), a velocity one and a floating base (joint_states + odom); every transition the
actor sends to the learner topic must equal the gymnasium env's step on the same seed and the
same actions.
"""
import numpy as np
import pytest
from std_msgs.msg import Float32MultiArray

from t3d_ros.ros import messages
from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.seeds import SeedStream, stream_rng
from t3d_ros.acting.exploration import random_unit_action
from t3d_ros.tasks.scaling import ActionScaler


@pytest.mark.parametrize('task_name,steps', [
    ('pendulum', 450), ('reacher', 160),
    ('odd_arm', 60),  # a task file on the tests' own URDF, position interface
    ('odd_arm_relative', 60),  # the same, relative position action (steps reach the limits)
    ('panda_reach', 110),  # velocity interface
    ('half_cheetah', 1100),  # floating base: joint_states + odom, across a reset
])
def test_transitions_over_ros_equal_the_env_step_for_step(ros, odd_arm, task_name, steps):
    seed = 7
    if task_name == 'odd_arm':
        task_name = str(odd_arm())
    elif task_name == 'odd_arm_relative':
        task_name = str(odd_arm('relative.yaml', position_action='relative', position_step=0.5))
    task = make_task(task_name)
    received = []
    listener = ros.plain_node('learner_stand_in')
    codec = messages.TransitionCodec(task.obs_dim, task.num_joints)
    listener.create_subscription(Float32MultiArray, '/t3d/transitions',
                                 lambda msg: received.append(codec.decode(msg)[0]),
                                 messages.TRANSITIONS_QOS)
    ros.start(SimNode, 'robot_0', task=task_name, seed=seed)
    ros.start(ActorNode, 'robot_0', task=task_name, seed=seed, start_steps=10**9,
              state_timeout=0.0, transitions_per_message=16)
    # Generous: on a loaded machine a lockstep step (two messages out, one back) may take
    # a quarter of a second.
    assert ros.spin_until(lambda: sum(len(b.reward) for b in received) >= steps,
                          timeout=max(60.0, 0.3 * steps))

    ros_steps = {name: np.concatenate([getattr(b, name) for b in received])[:steps]
                 for name in ('obs', 'action', 'reward', 'next_obs', 'terminated', 'truncated')}
    # The actor's random actions come from its seeded generator: replay them in the env.
    noise_rng = stream_rng(seed, SeedStream.EXPLORATION)
    scaler = ActionScaler(task.action_low, task.action_high)
    env = TaskEnv(task)
    obs, _ = env.reset(seed=seed)
    for i in range(steps):
        action = scaler.from_unit(random_unit_action(task.num_joints, noise_rng))
        np.testing.assert_allclose(ros_steps['action'][i], action, rtol=1e-6, atol=1e-7)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        np.testing.assert_array_equal(ros_steps['obs'][i], obs, err_msg=f'step {i}')
        np.testing.assert_array_equal(ros_steps['next_obs'][i], next_obs, err_msg=f'step {i}')
        assert ros_steps['reward'][i] == np.float32(reward), f'step {i}'
        assert (ros_steps['terminated'][i], ros_steps['truncated'][i]) == (terminated, truncated)
        obs = env.reset()[0] if terminated or truncated else next_obs
    assert ros_steps['truncated'].sum() == steps // task.max_episode_steps  # crossed episodes
    env.close()

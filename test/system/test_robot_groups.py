"""
Several robots per process (issue 9.4).

The robots' sims in one ``sim_group`` process, their actors in one ``actor_group`` process, started
from the node graph as `t3d-ros train` starts them (no learner: this process listens on
/t3d/transitions in its place).

Every robot's transitions must equal its own gymnasium env's, step for step, for its own seed
(no cross-talk between the robots of a process), and both processes must stop cleanly on
SIGINT. The actors start once the sims run: a sim's first state, published before its actor
asked for the first episode but delivered after the reset's answer, would be taken for the
episode's first state (a start-up race of the actor's reset handshake, not of the groups).
"""
import signal
import time
from collections import defaultdict

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from std_msgs.msg import Float32MultiArray  # noqa: E402

from t3d_ros.ros import messages  # noqa: E402
from t3d_ros.acting.exploration import random_unit_action  # noqa: E402
from t3d_ros.tasks.scaling import ActionScaler  # noqa: E402
from t3d_ros.graph.bringup import train_graph  # noqa: E402
from t3d_ros.envs.task_env import TaskEnv  # noqa: E402
from t3d_ros.graph.supervisor import ProcessGroup  # noqa: E402
from t3d_ros.tasks import make_task  # noqa: E402
from t3d_ros.tasks.seeds import SeedStream, robot_seed, stream_rng  # noqa: E402

ROBOTS = 3
SEED = 5
RUN_TIME = 240.0
"""Seconds for two processes to start on 2 loaded cores and the robots to make their steps."""
STOP_TIME = 15.0
"""Seconds a group process may take to stop after SIGINT (generous: a loaded machine)."""


@pytest.mark.parametrize('task_name,steps', [('pendulum', 210), ('reacher', 110)])
@pytest.mark.slow
def test_robots_sharing_processes_each_equal_their_own_env(tmp_path, task_name, steps):
    task = make_task(task_name)
    graph = [spec for spec in train_graph(
        task_name, ROBOTS, seed=SEED, robots_per_process=ROBOTS,
        overrides={'actor': {'start_steps': 10**9, 'state_timeout': 0.0,
                             'transitions_per_message': 16}}) if spec.name != 'learner']
    assert [(spec.executable, spec.arguments) for spec in graph] == [
        (kind, [f'robot_{i}' for i in range(ROBOTS)]) for kind in ('sim_group', 'actor_group')]

    received = defaultdict(list)
    codec = messages.TransitionCodec(task.obs_dim, task.num_joints)

    def on_transitions(msg):
        batch = codec.decode(msg)[0]
        received[batch.actor_id].append(batch)

    def count(actor_id):
        return sum(len(batch.reward) for batch in received[actor_id])

    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('learner_stand_in', context=context)
    node.create_subscription(Float32MultiArray, '/t3d/transitions', on_transitions,
                             messages.TRANSITIONS_QOS)
    statuses = set()
    node.create_subscription(DiagnosticArray, '/diagnostics', lambda msg: statuses.update(
        messages.diagnostic_values(msg)), 100)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    sims, actors = (ProcessGroup([spec], tmp_path / 'logs') for spec in graph)
    group = ProcessGroup([], tmp_path / 'logs')
    try:
        deadline = time.monotonic() + RUN_TIME
        group.processes = sims.start().processes
        sims_running = {f't3d/sim/robot_{i}' for i in range(ROBOTS)}
        while (not sims_running <= statuses and time.monotonic() < deadline
               and group.first_exited() is None):
            executor.spin_once(timeout_sec=0.05)
        group.processes += actors.start().processes
        while (min(count(f'robot_{i}') for i in range(ROBOTS)) < steps
               and time.monotonic() < deadline and group.first_exited() is None):
            executor.spin_once(timeout_sec=0.05)
        logs = ''.join(f'\n--- {p.label}:\n{p.tail()}' for p in group.processes)
        assert group.first_exited() is None, logs
        assert all(count(f'robot_{i}') >= steps for i in range(ROBOTS)), (
            {i: count(f'robot_{i}') for i in range(ROBOTS)}, logs)

        for process in group.processes:
            process.process.send_signal(signal.SIGINT)
        for process in group.processes:
            assert process.process.wait(timeout=STOP_TIME) == 0, (process.label, logs)
    finally:
        group.stop()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)

    assert set(received) == {f'robot_{i}' for i in range(ROBOTS)}
    for index in range(ROBOTS):
        assert_equals_env(task, robot_seed(SEED, index), received[f'robot_{index}'], steps)


def assert_equals_env(task, seed, batches, steps):
    """Return the transitions equal the env's on ``seed`` for the actor's random actions."""
    ros_steps = {name: np.concatenate([getattr(b, name) for b in batches])[:steps]
                 for name in ('obs', 'action', 'reward', 'next_obs', 'terminated', 'truncated')}
    noise_rng = stream_rng(seed, SeedStream.EXPLORATION)
    scaler = ActionScaler(task.action_low, task.action_high)
    env = TaskEnv(task)
    try:
        obs, _ = env.reset(seed=seed)
        for i in range(steps):
            action = scaler.from_unit(random_unit_action(task.num_joints, noise_rng))
            np.testing.assert_allclose(ros_steps['action'][i], action, rtol=1e-6, atol=1e-7)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            np.testing.assert_array_equal(ros_steps['obs'][i], obs, err_msg=f'step {i}')
            np.testing.assert_array_equal(ros_steps['next_obs'][i], next_obs,
                                          err_msg=f'step {i}')
            assert ros_steps['reward'][i] == np.float32(reward), f'step {i}'
            assert (ros_steps['terminated'][i], ros_steps['truncated'][i]) == (
                terminated, truncated), f'step {i}'
            obs = env.reset()[0] if terminated or truncated else next_obs
        assert ros_steps['truncated'].sum() == steps // task.max_episode_steps
    finally:
        env.close()

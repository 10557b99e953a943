"""
The deploy graph with the realtime sim standing in for the robot, in-process.

As ``t3d-ros deploy --with-sim`` and ``deploy.launch.py use_sim:=true`` run it.

Parameters come from ``bringup.deploy_graph`` (config/deploy.yaml): a managed actor acting on a
timer at the task's rate, best-effort state subscription (the sim publishes reliably); the
sim runs in realtime with actuation latency and observation noise. Commands flow, the watchdog
stays quiet while the sim runs, and trips when the sim goes away.

The watchdog's timeout is 0.5 s here instead of deploy.yaml's 3 control periods (150 ms for
the pendulum): sim and actor share one executor on a loaded 2-core CI machine, where a stall
of 100 ms happens now and then, and this test must not trip on one.
"""
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import TransitionCallbackReturn
from std_msgs.msg import Float64MultiArray

from t3d_ros.ros import messages
from t3d_ros.graph.bringup import deploy_graph
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('pendulum')
NS = 'robot'
STATE_TIMEOUT = 0.5


def test_deploy_actor_drives_the_realtime_sim_and_its_watchdog_trips_when_the_sim_dies(
        ros, tmp_path):
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high,
                TD3Config(hidden_sizes=(64, 64), seed=6))
    PolicyBundle.from_agent(agent, TASK, policy_version=1).save(tmp_path / 'policy.safetensors')
    graph = {spec.name: spec for spec in deploy_graph(
        'pendulum', tmp_path / 'policy.safetensors', with_sim=True, namespace=NS,
        overrides={'sim': {'actuation_latency': 0.02, 'observation_noise': 0.01, 'seed': 4},
                   'actor': {'state_timeout': STATE_TIMEOUT}})}
    actor_params = graph['actor'].resolved_parameters()
    assert graph['actor'].managed and actor_params['autostart'] is False
    assert actor_params['trigger'] == 'timer' and actor_params['state_qos'] == 'best_effort'
    assert graph['sim'].resolved_parameters()['mode'] == 'realtime'

    commands: list[tuple[float, np.ndarray]] = []
    diagnostics: dict[str, dict[str, str]] = {}
    listener = ros.plain_node('operator', NS)
    listener.create_subscription(
        Float64MultiArray, TASK.command_topic,
        lambda msg: commands.append((time.monotonic(), np.array(msg.data))), messages.ROBOT_QOS)
    listener.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: diagnostics.update(messages.diagnostic_values(msg)), 10)
    sim = ros.start(SimNode, NS, **graph['sim'].resolved_parameters())
    actor = ros.start(ActorNode, NS, **actor_params)
    # What deploy.launch.py and `t3d-ros deploy` do once the nodes are up.
    assert actor.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert actor.trigger_activate() == TransitionCallbackReturn.SUCCESS
    state = actor.robot_state
    assert ros.spin_until(lambda: state.latest is not None and not state.stale
                          and sim.counters['commands'] >= 10, timeout=20)

    # While the sim runs: commands at the control rate, the watchdog quiet.
    trips, sim_commands = actor.counters['watchdog_trips'], sim.counters['commands']
    mark, start = len(commands), time.monotonic()
    ros.spin_for(3.0)
    elapsed = time.monotonic() - start
    window = np.array([c for _, c in commands[mark:]])
    rate_hz = 1.0 / TASK.control_dt
    print(f'\ndeploy on realtime sim: {len(window) / elapsed:.1f} commands/s '
          f'(control rate {rate_hz:.0f} Hz), sim took {sim.counters["commands"] - sim_commands}')
    assert 0.5 * rate_hz <= len(window) / elapsed <= 1.2 * rate_hz
    assert actor.counters['watchdog_trips'] == trips and not actor.robot_state.stale
    assert np.all(np.isfinite(window)) and np.all(np.abs(window) <= TASK.action_high)
    assert np.count_nonzero(np.any(window != 0.0, axis=1)) == len(window), 'policy commands'
    assert sim.counters['commands'] - sim_commands >= len(window) // 2
    status = f't3d/actor/{NS}'
    assert ros.spin_until(lambda: 'state_to_command_p99_ms' in diagnostics.get(status, {}),
                          timeout=5)
    p50 = float(diagnostics[status]['state_to_command_p50_ms'])
    p99 = float(diagnostics[status]['state_to_command_p99_ms'])
    print(f'actor state-to-command latency (deploy, trigger timer at {rate_hz:.0f} Hz, realtime '
          f'sim in-process; the age of the state a command is computed from): '
          f'p50 {p50:.2f} ms, p99 {p99:.2f} ms')
    assert 0.0 < p50 <= p99

    # The sim (the robot) goes away: zero effort within the watchdog's timeout.
    ros.nodes.remove(sim)
    ros.executor.remove_node(sim)
    sim.close()
    sim.destroy_node()
    gone, mark = time.monotonic(), len(commands)

    def first_zero():
        return next((i for i in range(mark, len(commands)) if np.all(commands[i][1] == 0.0)),
                    None)
    assert ros.spin_until(lambda: first_zero() is not None, timeout=10)
    assert actor.robot_state.stale and actor.counters['watchdog_trips'] == trips + 1
    first_zero = first_zero()
    reaction = commands[first_zero][0] - gone
    ros.spin_for(0.5)
    after = np.array([c for _, c in commands[first_zero:]])
    assert len(after) >= 3 and np.all(after == 0.0)
    timeout = STATE_TIMEOUT
    print(f'watchdog after the sim was destroyed: first zero command {reaction * 1e3:.0f} ms '
          f'later (timeout {timeout * 1e3:.0f} ms + one {TASK.control_dt * 1e3:.0f} ms period)')
    assert reaction <= timeout + TASK.control_dt + 0.3

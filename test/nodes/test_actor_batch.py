"""
Actor nodes of one process sharing an ActorBatch (issue 9.4).

One policy subscription and one copy of the weights, the ready robots' observations in one forward
pass, each robot's actions its own policy output plus its own exploration noise.

The sims run on the same executor, as they would in their sim_group process.
"""
import numpy as np
import pytest
from std_msgs.msg import Float32MultiArray, UInt8MultiArray

from rclpy_variants import IN_EVERY_EXECUTOR
from t3d_ros.ros import messages
from t3d_ros.acting.exploration import explore
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.nodes import actor_group, sim_group
from t3d_ros.nodes.actor_batch import ActorBatch
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.seeds import SeedStream, stream_rng
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3
from rclpy.parameter import Parameter

TASK = make_task('reacher')
ROBOTS = 4
STEPS = 60
NOISE = 0.1


@IN_EVERY_EXECUTOR
def test_actors_of_a_batch_share_one_policy_and_act_in_batched_forward_passes(ros):
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=4))
    bundle = PolicyBundle.from_agent(agent, TASK, policy_version=1)
    batch = ActorBatch()
    seeds = [11 + 7 * index for index in range(ROBOTS)]
    actors = []
    for index, seed in enumerate(seeds):
        namespace = f'robot_{index}'
        ros.start(SimNode, namespace, task=TASK.name, seed=seed)
        params = dict(task=TASK.name, seed=seed, start_steps=0, exploration_noise=NOISE,
                      state_timeout=0.0, transitions_per_message=8)
        actors.append(ros.add(ActorNode(
            batch, namespace=namespace, context=ros.context,
            parameter_overrides=[Parameter(name, value=value) for name, value in params.items()])))
    assert batch.members == actors and batch.leader is actors[0]

    probe = ros.plain_node('probe')
    probe.create_publisher(UInt8MultiArray, '/t3d/policy', messages.LATCHED_QOS).publish(
        messages.policy_msg(bundle))
    assert ros.spin_until(lambda: all(a.policy_version == 1 for a in actors), timeout=60)
    assert probe.count_subscribers('/t3d/policy') == 1  # the leader's only
    assert all(a.policy is actors[0].policy for a in actors)  # one copy of the weights

    received = {f'robot_{index}': [] for index in range(ROBOTS)}
    codec = messages.TransitionCodec(TASK.obs_dim, TASK.num_joints)

    def on_transitions(msg):
        decoded = codec.decode(msg)[0]
        received[decoded.actor_id].append(decoded)

    # Only now a learner: the actors begin their episodes with the policy already there.
    probe.create_subscription(Float32MultiArray, '/t3d/transitions', on_transitions,
                              messages.TRANSITIONS_QOS)
    assert ros.spin_until(lambda: all(
        sum(len(b.reward) for b in batches) >= STEPS for batches in received.values()),
        timeout=60)

    assert batch.batched_observations > batch.forward_passes > 0  # several robots per pass
    policy = bundle.make_policy()
    scaler = ActionScaler(TASK.action_low, TASK.action_high)
    for index, seed in enumerate(seeds):
        batches = received[f'robot_{index}']
        assert {b.policy_version for b in batches} == {1}
        obs = np.concatenate([b.obs for b in batches])[:STEPS]
        actions = np.concatenate([b.action for b in batches])[:STEPS]
        noise_rng = stream_rng(seed, SeedStream.EXPLORATION)
        expected = [scaler.from_unit(explore(policy.unit_action(o), NOISE, noise_rng))
                    for o in obs]
        np.testing.assert_allclose(actions, np.array(expected), rtol=1e-5, atol=1e-5,
                                   err_msg=f'robot_{index}')


@pytest.mark.parametrize('argv', [['sim_group'], ['sim_group', 'robot_0', 'robot_0'],
                                  ['sim_group', '--ros-args', '-p', 'seed:=1']])
def test_a_group_process_without_distinct_namespaces_says_so_and_exits_1(argv, capsys):
    for group in (sim_group, actor_group):
        assert group.main(argv) == 1
        assert 'distinct namespaces of its robots' in capsys.readouterr().err

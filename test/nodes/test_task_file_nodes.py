"""
The nodes take a task file as their ``task`` parameter.

They refuse a bad one in their constructor, naming the field (issue 7.1).
"""
import pytest

from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.learner_node import LearnerNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import TaskFileError


@pytest.mark.parametrize('node_class', [SimNode, ActorNode, LearnerNode])
def test_nodes_refuse_a_bad_task_file_naming_the_field(ros, odd_arm, node_class):
    bad = odd_arm('bad.yaml', joints=['ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_3', 'decoy'],
                  command_low=None, command_high=None)
    with pytest.raises(TaskFileError, match="joints: 'decoy' is not in the chain"):
        ros.start(node_class, 'robot_0', task=str(bad))


def test_sim_and_actor_run_a_task_file(ros, odd_arm):
    path = str(odd_arm())
    sim = ros.start(SimNode, 'robot_0', task=path)
    actor = ros.start(ActorNode, 'robot_0', task=path, autostart=False)
    assert sim.task.name == actor.task.name == 'odd_arm_reach'
    assert sim.core.robot.joint_state()[0].shape == (3,)


@pytest.mark.parametrize('command_topic, rate, configured', [
    ('forward_velocity_controller/commands', 0.0, True),
    ('forward_velocity_controller/commands', 100.0, True),  # a warning: trained at 25 Hz
    ('forward_position_controller/commands', 0.0, False),
    ('forward_effort_controller/commands', 0.0, False),
])
def test_deploy_actor_refuses_a_bundle_for_another_controller(
        ros, tmp_path, command_topic, rate, configured):
    from rclpy.lifecycle import TransitionCallbackReturn

    from t3d_ros.tasks import make_task
    from t3d_ros.td3 import TD3, PolicyBundle, TD3Config

    task = make_task('panda_reach')
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    policy = tmp_path / 'panda.safetensors'
    PolicyBundle.from_agent(agent, task, policy_version=1).save(policy)
    actor = ros.start(ActorNode, task='panda_reach', mode='deploy', policy_file=str(policy),
                      autostart=False, command_topic=command_topic, control_rate_hz=rate)
    result = actor.trigger_configure()
    assert result == (TransitionCallbackReturn.SUCCESS if configured
                      else TransitionCallbackReturn.FAILURE)
    state = actor._state_machine.current_state[1]  # what ~/get_state answers
    assert state == ('inactive' if configured else 'unconfigured')

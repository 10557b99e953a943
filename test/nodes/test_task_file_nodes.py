"""The nodes take a task file as their ``task`` parameter and refuse a bad one in their
constructor, naming the field (issue 7.1)."""
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
    assert sim.robot.joint_state()[0].shape == (3,)
